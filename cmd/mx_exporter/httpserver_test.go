package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestDaemonPagesAnswer405ToOtherMethods: the read-only endpoints answer
// GET and HEAD only, as /-/reload answers POST only.
func TestDaemonPagesAnswer405ToOtherMethods(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, "  - domain: good.test\n"))
	for _, path := range []string{"/", "/metrics", "/-/healthy", "/status", "/status/good.test/default"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			resp := do(t, method, "http://"+d.addr+path)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q; want 405 with Allow: GET, HEAD", method, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if resp := do(t, method, "http://"+d.addr+path); resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: 405", method, path)
			}
		}
	}
}

func do(t *testing.T, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestDaemonProbeOutlastsTheWriteTimeout: a /probe answer may take its
// module's timeout on top of the write timeout, so a probe slower than
// the write timeout is still answered in full. slow.test answers RCPT
// after 2 s; the write timeout is a tenth of that.
func TestDaemonProbeOutlastsTheWriteTimeout(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, "  - domain: slow.test\n    module: patient\n"), "--web.write-timeout=200ms")
	start := time.Now()
	code, body := d.get(t, "/probe?target=slow.test&module=patient")
	took := time.Since(start)
	if code != http.StatusOK || !strings.Contains(body, `mx_target_success{domain="slow.test"} 1`) {
		t.Fatalf("/probe of slow.test after %s: status %d\n%s", took, code, body)
	}
	if took < time.Second {
		t.Fatalf("/probe of slow.test took %s; the test needs a probe longer than the write timeout", took)
	}
}

// TestServerCutsOffAClientThatDoesNotRead: a client that asks and never
// reads its answer holds the server's handler no longer than the write
// timeout. The handler is a fake with an endless answer: no endpoint of a
// test config answers more than the loopback socket buffers hold, and
// only an answer that fills them makes the server wait on the client.
func TestServerCutsOffAClientThatDoesNotRead(t *testing.T) {
	const writeTimeout = 500 * time.Millisecond
	handlerDone := make(chan time.Duration, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		start := time.Now()
		chunk := make([]byte, 64<<10)
		for time.Since(start) < time.Minute {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		handlerDone <- time.Since(start)
	})
	server, err := newHTTPServer(handler, httpLimits{writeTimeout: writeTimeout, idleTimeout: time.Minute}, func() time.Duration { return 0 }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(l) }()
	t.Cleanup(func() { _ = server.Close() })

	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := dialer.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: mx-exporter\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case took := <-handlerDone:
		if took > writeTimeout+time.Second {
			t.Fatalf("the handler's writes failed after %s; want the write timeout, %s", took, writeTimeout)
		}
	case <-time.After(writeTimeout + 5*time.Second):
		t.Fatalf("a client that does not read held the handler for more than %s; the write timeout is %s", writeTimeout+5*time.Second, writeTimeout)
	}
}

// TestDaemonAnswersUnderAnIdleConnectionFlood runs the built exporter with
// 64 file descriptors and opens 500 keep-alive connections that each ask
// once and then stay idle: /metrics must still answer at once, with the
// probes' own connections intact, and the idle connections left must be
// closed once the idle timeout has passed.
func TestDaemonAnswersUnderAnIdleConnectionFlood(t *testing.T) {
	env := testenv.Require(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is needed to start the exporter with a low file limit")
	}
	const (
		fileLimit   = 64
		idleTimeout = 3 * time.Second
		flood       = 500
	)
	d := startLimitedDaemon(t, prlimit, fileLimit, buildExporter(t), testConfig(env, "  - domain: good.test\n"), fmt.Sprintf("--web.idle-timeout=%s", idleTimeout))
	waitFor(t, 15*time.Second, "a successful probe of good.test", func() bool {
		_, body := scrape(t, d.addr, 5*time.Second)
		return strings.Contains(body, `mx_target_success{domain="good.test"} 1`)
	})

	// Every connection asks once, reads its answer and stays open.
	conns := make([]net.Conn, flood)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", d.addr, 5*time.Second)
			if err != nil {
				return
			}
			conns[i] = conn
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, "GET /-/healthy HTTP/1.1\r\nHost: mx-exporter\r\n\r\n"); err != nil {
				return
			}
			if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	t.Logf("exporter's open files after %d connections: %d of %d", flood, openFiles(t, d.cmd.Process.Pid), fileLimit)

	// Well within the idle timeout: the idle connections give way.
	start := time.Now()
	code, body := scrape(t, d.addr, idleTimeout/2)
	if code != http.StatusOK {
		t.Fatalf("/metrics with %d idle connections: status %d after %s", flood, code, time.Since(start))
	}
	t.Logf("/metrics with %d idle connections answered in %s", flood, time.Since(start))
	if open := stillOpen(conns); open == 0 {
		t.Fatal("the server closed every idle connection at once: nothing is left to check the idle timeout with")
	} else {
		t.Logf("idle connections the server kept open: %d", open)
	}

	// The probes kept their file descriptors: a probe run after the
	// flood still succeeds.
	const lastRun = `mx_target_last_run_timestamp_seconds{domain="good.test"}`
	floodRun, _ := metricValue(body, lastRun)
	waitFor(t, 10*time.Second, "a successful probe of good.test after the flood", func() bool {
		_, body := scrape(t, d.addr, 5*time.Second)
		run, _ := metricValue(body, lastRun)
		return run != floodRun && strings.Contains(body, `mx_target_success{domain="good.test"} 1`)
	})

	// Once the idle timeout has passed, the server has closed every idle
	// connection it still kept.
	time.Sleep(idleTimeout)
	for i, c := range conns {
		if c == nil {
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection %d still open %s after its last answer; the idle timeout is %s (read: %v)", i, idleTimeout+2*time.Second, idleTimeout, err)
		}
	}
	t.Logf("exporter's open files once the idle timeout passed: %d", openFiles(t, d.cmd.Process.Pid))
}

// startLimitedDaemon is startDaemonProcess with the exporter run by
// prlimit with at most files open files (prlimit sets the limit and then
// executes the exporter, which keeps its process).
func startLimitedDaemon(t *testing.T, prlimit string, files int, binary, config string, extraArgs ...string) *daemonProcess {
	t.Helper()
	cfgFile := t.TempDir() + "/mx_exporter.yml"
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemonProcess{addr: freeAddr(t), logs: &testenv.LockedBuffer{}, done: make(chan error, 1)}
	args := append([]string{fmt.Sprintf("--nofile=%d", files), binary, "--config.file=" + cfgFile, "--web.listen-address=" + d.addr}, extraArgs...)
	d.cmd = exec.Command(prlimit, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.shutdown(t)
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logs.String())
		}
	})
	waitHealthy(t, d.addr)
	return d
}

// scrape asks for /metrics on a connection of its own, within timeout;
// status 0 when no answer came.
func scrape(t *testing.T, addr string, timeout time.Duration) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// stillOpen counts the connections the other side has not closed.
func stillOpen(conns []net.Conn) int {
	n := 0
	for _, c := range conns {
		if c == nil {
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
			n++
		}
	}
	return n
}

// openFiles counts a process' open file descriptors.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestDaemonRefusesNonPositiveHTTPTimeouts: zero is no "unlimited" for
// these flags (a zero idle timeout would become the read timeout, a zero
// write timeout would cut off every answer): the daemon refuses to start.
func TestDaemonRefusesNonPositiveHTTPTimeouts(t *testing.T) {
	env := testenv.Require(t)
	cfgFile := t.TempDir() + "/mx_exporter.yml"
	if err := os.WriteFile(cfgFile, []byte(testConfig(env, "  - domain: good.test\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--web.write-timeout=0s", "--web.idle-timeout=0s", "--web.idle-timeout=-1s"} {
		var stderr testenv.LockedBuffer
		code := run(context.Background(), []string{"--config.file=" + cfgFile, "--web.listen-address=" + freeAddr(t), flag}, io.Discard, &stderr)
		name, _, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		if code != exitFailure || !strings.Contains(stderr.String(), name+" must be positive") {
			t.Errorf("%s: exit status %d, log:\n%s", flag, code, stderr.String())
		}
	}
}

// TestDaemonRefusesOversizedHeaders: headers beyond maxHeaderBytes get
// 431, not a megabyte of buffer per connection as net/http's default
// allows; ordinary ones pass.
func TestDaemonRefusesOversizedHeaders(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, "  - domain: good.test\n"))
	for _, tc := range []struct {
		size int
		want int
	}{{1 << 10, http.StatusOK}, {64 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest(http.MethodGet, "http://"+d.addr+"/-/healthy", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("x", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d bytes of headers: %v", tc.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d bytes of headers: status %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}
