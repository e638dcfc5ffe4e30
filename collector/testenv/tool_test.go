package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary play an external tool for TestStartTool:
// with MX_FAKE_TOOL set it serves /-/ready on its first argument's address
// and answers /config with the file named by its second.
func TestMain(m *testing.M) {
	if os.Getenv("MX_FAKE_TOOL") == "1" {
		fakeTool(os.Args[1], os.Args[2])
		return
	}
	os.Exit(m.Run())
}

func fakeTool(addr, file string) {
	fmt.Println("fake tool starting")
	time.Sleep(200 * time.Millisecond) // not ready at once, as a real one
	http.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready") })
	http.HandleFunc("/config", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := os.ReadFile(file)
		w.Write(b)
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, nil))
	os.Exit(1)
}

func TestStartTool(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MX_FAKE_TOOL", "1")
	var addr string
	base := StartTool(t, Tool{
		Names:   []string{"no-such-tool-mx", self},
		Install: "it is this test",
		Files:   map[string]string{"tool.yml": "setting: 1\n"},
		Args: func(dir, a string) []string {
			addr = a
			return []string{a, filepath.Join(dir, "tool.yml")}
		},
		Ready: "/-/ready",
	})
	if base != "http://"+addr || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("base URL %s, listen address %s", base, addr)
	}
	resp, err := http.Get(base + "/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "setting: 1\n" {
		t.Errorf("the tool read %q from its file", body)
	}

	// At the end of a test the tool is gone: its port is free again.
	t.Run("stopped at cleanup", func(t *testing.T) {
		var inner string
		t.Run("start", func(t *testing.T) {
			inner = StartTool(t, Tool{
				Names: []string{self},
				Args:  func(dir, a string) []string { return []string{a, filepath.Join(dir, "none")} },
				Ready: "/-/ready",
			})
		})
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(inner, "http://"), time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still answers after its test ended", inner)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestRequireToolFindsTheFirst(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if got := RequireTool(t, "", "no-such-tool-mx", self); got != self {
		t.Errorf("RequireTool = %s, want %s", got, self)
	}
}
