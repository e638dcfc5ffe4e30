package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireTool returns the path of the first of names found in PATH. When
// none is, it fails the test if CI=true (.ci/run installs every tool the
// tests use, so a missing one is a broken CI) and skips it otherwise;
// install says how to get it, e.g. "apt-get install prometheus".
func RequireTool(t testing.TB, install string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed (%s)", strings.Join(names, " or "), install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreeAddr returns a loopback address (127.0.0.1:port) with a port nothing
// listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Tool is an external server that a test starts on loopback, such as
// Prometheus or Alertmanager.
type Tool struct {
	Names   []string // binaries to look for, in order: {"alertmanager", "prometheus-alertmanager"}
	Install string   // how to install it, for RequireTool's message
	// Files are written into the tool's temporary directory before it starts
	// (its configuration, say), and shown with its log when the test fails.
	Files map[string]string
	// Args is its command line, given its temporary directory (for Files and
	// its data) and the loopback address it is to listen on.
	Args func(dir, addr string) []string
	// Ready is the HTTP path that answers 200 once it serves, e.g. "/-/ready".
	Ready string
}

// StartTool runs tool on a free loopback port, waits up to 30 s until it is
// ready, and returns its base URL ("http://127.0.0.1:PORT"). It is stopped at
// the test's cleanup; if the test failed, its files and its output are logged.
// A missing binary fails the test under CI=true and skips it otherwise.
func StartTool(t testing.TB, tool Tool) string {
	t.Helper()
	bin := RequireTool(t, tool.Install, tool.Names...)
	name := filepath.Base(bin)
	dir := t.TempDir()
	for f, content := range tool.Files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, tool.Args(dir, addr)...)
	out := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("%s %s\n%s%s output:\n%s", name, strings.Join(cmd.Args[1:], " "), describeFiles(tool.Files), name, out.String())
		}
	})

	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(base + tool.Ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready", name)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s%s within 30s", name, base, tool.Ready)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describeFiles(files map[string]string) string {
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, f := range names {
		fmt.Fprintf(&b, "--- %s:\n%s\n", f, strings.TrimRight(files[f], "\n"))
	}
	return b.String()
}

// LockedBuffer collects output written from other goroutines (a process's,
// a daemon's or probes' logs) while the test may read it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// WaitFor polls cond every 50 ms until it holds, and fails the test if it
// still does not after within: a daemon or a tool works on its own
// schedule, so tests wait for what they can observe rather than sleep.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
