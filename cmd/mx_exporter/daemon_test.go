package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	return testenv.FreeAddr(t)
}

// testModules are the modules of testConfig: probes of the test servers
// every 2 s.
var testModules = []testenv.Module{
	{Name: "default"},
	{Name: "relay", Recipients: []string{"postmaster@relay.test"}},
	// postscreen holds the greeting of multiline.test back for up to 2 s.
	{Name: "patient", Interval: 6 * time.Second, Timeout: 6 * time.Second},
	{Name: "greylist", Recipients: []string{"postmaster@greylist.test"}},
}

// testConfig is a daemon config probing the test servers every 2 s, with
// targets (YAML list items) under targets:.
func testConfig(env *testenv.Env, targets string) string {
	return env.Config(testModules, "targets:\n"+targets)
}

const testTargets = `  - domain: good.test
  - domain: relay.test
    module: relay
  - domain: reject.test
  - domain: partial.test
  - domain: nullmx.test
  - domain: missing.test
`

// runningDaemon is `mx_exporter serve` started in-process.
type runningDaemon struct {
	addr       string
	configFile string
	stop       context.CancelFunc
	done       chan int
	logs       *testenv.LockedBuffer
	stopOnce   sync.Once
}

func startDaemon(t testing.TB, config string, extraArgs ...string) *runningDaemon {
	t.Helper()
	d := launchDaemon(t, config, extraArgs...)
	waitHealthy(t, d.addr)
	return d
}

// launchDaemon is startDaemon without waiting for plain-HTTP health: for
// daemons that serve TLS.
func launchDaemon(t testing.TB, config string, extraArgs ...string) *runningDaemon {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "mx_exporter.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &runningDaemon{addr: freeAddr(t), configFile: cfgFile, done: make(chan int, 1), logs: &testenv.LockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	args := append([]string{"--config.file=" + cfgFile, "--web.listen-address=" + d.addr}, extraArgs...)
	if !slices.ContainsFunc(extraArgs, func(a string) bool { return strings.HasPrefix(a, "--log.level") }) {
		args = append(args, "--log.level=debug")
	}
	go func() { d.done <- run(ctx, args, io.Discard, d.logs) }()
	t.Cleanup(func() {
		d.shutdown(t)
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logs.String())
		}
	})
	return d
}

// waitHealthy waits until the daemon on addr answers /-/healthy.
func waitHealthy(t testing.TB, addr string) {
	t.Helper()
	waitFor(t, 10*time.Second, "the daemon to answer /-/healthy", func() bool {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// shutdown cancels the daemon's context, as SIGTERM does, and waits for
// run to return; it may be called more than once.
func (d *runningDaemon) shutdown(t testing.TB) {
	d.stopOnce.Do(func() {
		d.stop()
		select {
		case code := <-d.done:
			if code != 0 {
				t.Errorf("daemon exited with status %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("daemon did not stop within 10s of cancellation")
		}
	})
}

func (d *runningDaemon) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// warmUpSignals starts os/signal's process-wide watcher goroutine, which
// lives forever once started, so that it is not counted as a leak.
func warmUpSignals() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	signal.Stop(c)
}

// waitFor polls cond until it holds or the deadline passes: the daemon
// probes on its own schedule, so tests wait for an observable state.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, within, what, cond)
}

func TestDaemonServesMetricsAndShutsDownCleanly(t *testing.T) {
	env := testenv.Require(t)
	warmUpSignals()
	before := runtime.NumGoroutine()
	d := startDaemon(t, testConfig(env, testTargets))

	waitFor(t, 15*time.Second, "a probe result of every target", func() bool {
		_, body := d.get(t, "/metrics")
		for _, want := range []string{
			`mx_target_success{domain="good.test"}`,
			`mx_target_success{domain="relay.test"}`,
			`mx_target_success{domain="reject.test"}`,
			`mx_target_success{domain="partial.test"}`,
			`mx_target_success{domain="nullmx.test"}`,
			`mx_target_success{domain="missing.test"}`,
		} {
			if !strings.Contains(body, want) {
				return false
			}
		}
		return true
	})
	_, body := d.get(t, "/metrics")
	for _, want := range []string{
		`mx_smtp_reply_code{command="banner",domain="good.test",ip="127.0.1.1",mx="mx1.good.test"} 220`,
		`mx_smtp_open_relay{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 1`,
		`mx_probe_failure_info{domain="reject.test",ip="127.0.1.4",mx="mx.reject.test",reason="banner_rejected"} 1`,
		`mx_probe_failure_info{domain="partial.test",ip="127.0.1.250",mx="dead.partial.test",reason="connect_refused"} 1`,
		`mx_smtp_size_limit_bytes{domain="good.test",ip="127.0.1.2",mx="mx2.good.test"} 1.2345678e+07`,
		`mx_records{domain="nullmx.test"} 0`,
		`mx_null_mx{domain="nullmx.test"} 1`,
		`mx_dns_lookup_success{domain="missing.test"} 0`,
		`mx_exporter_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A Prometheus with native histograms on asks for protobuf first; it
	// gets the text fast path, which it accepts too.
	req, err := http.NewRequest(http.MethodGet, "http://"+d.addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	proto, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") || !strings.Contains(string(proto), "mx_null_mx{domain=\"nullmx.test\"} 1") {
		t.Errorf("scrape asking for protobuf first: Content-Type %q, want the text format with the same series", ct)
	}

	code, landing := d.get(t, "/")
	if code != http.StatusOK || !strings.Contains(landing, `href="/metrics"`) {
		t.Errorf("landing page: status %d, links to /metrics: %v", code, strings.Contains(landing, `href="/metrics"`))
	}

	d.shutdown(t)
	waitFor(t, 5*time.Second, "goroutines to return to their number before the daemon started", func() bool {
		http.DefaultClient.CloseIdleConnections()
		return runtime.NumGoroutine() <= before
	})
}

func TestDaemonRefusesABadConfigAtStart(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(cfgFile, []byte("modules:\n  default:\n    starttls: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr testenv.LockedBuffer
	code := run(context.Background(), []string{"--config.file=" + cfgFile, "--web.listen-address=" + freeAddr(t)}, io.Discard, &stderr)
	if code != exitFailure {
		t.Fatalf("exit status %d, want %d", code, exitFailure)
	}
	want := cfgFile + `:3: modules.default.starttls: must be one of off, opportunistic, required, got \"sometimes\"`
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("log does not name file, line and key:\nwant %s\n got %s", want, stderr.String())
	}
}
