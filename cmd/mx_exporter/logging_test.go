package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// logOneLine logs a debug line (below the info level: not shown) and an
// info line in format to w.
func logOneLine(t *testing.T, format string, w io.Writer) {
	t.Helper()
	level := "info"
	l, err := (&logFlags{level: &level, format: &format}).logger(w)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("not shown at info")
	l.Info("probe finished", "target", "good.test", "success", true)
}

func TestLogFormats(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		logOneLine(t, "json", &buf)
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%d lines, want the info line only:\n%s", len(lines), buf.String())
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatalf("not JSON: %v: %s", err, lines[0])
		}
		if rec["level"] != "INFO" || rec["msg"] != "probe finished" || rec["target"] != "good.test" || rec["success"] != true || rec["time"] == nil {
			t.Fatalf("JSON record %v", rec)
		}
	})
	t.Run("text, not a terminal", func(t *testing.T) {
		var buf bytes.Buffer
		logOneLine(t, "text", &buf)
		out := buf.String()
		if strings.Contains(out, "\x1b[") || !strings.Contains(out, "INF probe finished target=good.test success=true") || strings.Contains(out, "not shown") {
			t.Fatalf("plain text log: %q", out)
		}
	})
	t.Run("text, terminal", func(t *testing.T) {
		if out := logToTerminal(t); !strings.Contains(out, "\x1b[") || !strings.Contains(out, "probe finished") {
			t.Fatalf("log on a terminal is not coloured: %q", out)
		}
	})
	t.Run("text, terminal, NO_COLOR", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		if out := logToTerminal(t); strings.Contains(out, "\x1b[") || !strings.Contains(out, "probe finished") {
			t.Fatalf("NO_COLOR is not respected: %q", out)
		}
	})
}

// logToTerminal logs one line in the text format to a pseudo-terminal and
// returns what arrived on its other side.
func logToTerminal(t *testing.T) string {
	t.Helper()
	master, slave := openPTY(t)
	logOneLine(t, "text", slave)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, _ := master.Read(buf)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing arrived on the terminal")
		return ""
	}
}

// openPTY opens a pseudo-terminal pair with plain syscalls (no dependency
// for one test).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("pseudo-terminal number: %v", e)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}
