package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

func (d *runningDaemon) writeConfig(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(d.configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (d *runningDaemon) postReload(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+d.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metricValue returns the value of the series line starting with series
// (name and labels exactly as exposed), and whether it was there.
func metricValue(body, series string) (string, bool) {
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

func TestReloadWhileScraping(t *testing.T) {
	env := testenv.Require(t)
	warmUpSignals()
	before := runtime.NumGoroutine()

	withRelay := testConfig(env, "  - domain: good.test\n  - domain: relay.test\n    module: relay\n")
	withReject := testConfig(env, "  - domain: good.test\n  - domain: reject.test\n")
	d := startDaemon(t, withRelay)
	const good = `mx_target_success{domain="good.test"}`
	waitFor(t, 15*time.Second, "good.test and relay.test to be probed", func() bool {
		_, body := d.get(t, "/metrics")
		_, g := metricValue(body, good)
		_, r := metricValue(body, `mx_target_success{domain="relay.test"}`)
		return g && r
	})

	// Scrapers run all along: no scrape may fail, and the unchanged target
	// good.test must never lose its series.
	stop := make(chan struct{})
	var scrapes atomic.Int64
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get("http://" + d.addr + "/metrics")
				if err != nil {
					errs <- fmt.Errorf("scrape: %w", err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					errs <- fmt.Errorf("scrape body: %w", err)
					return
				case resp.StatusCode != http.StatusOK:
					errs <- fmt.Errorf("scrape status %d: %s", resp.StatusCode, body)
					return
				}
				if _, ok := metricValue(string(body), good); !ok {
					errs <- fmt.Errorf("a scrape lacked %s", good)
					return
				}
				scrapes.Add(1)
			}
		})
	}

	for i := range 30 {
		cfg, gone := withReject, `mx_target_success{domain="relay.test"}`
		if i%2 == 1 {
			cfg, gone = withRelay, `mx_target_success{domain="reject.test"}`
		}
		d.writeConfig(t, cfg)
		if i%5 == 4 {
			// SIGHUP is asynchronous: wait until the reload is done (its
			// time moved on) and the removed target is gone. The target's
			// absence alone does not tell: one added by the previous reload
			// has no series until its first probe, and a reload still to
			// come would read the next config while it is being written.
			const reloadTime = "mx_exporter_config_last_reload_success_timestamp_seconds"
			_, body := d.get(t, "/metrics")
			before, _ := metricValue(body, reloadTime)
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the SIGHUP reload to drop "+gone, func() bool {
				_, body := d.get(t, "/metrics")
				at, _ := metricValue(body, reloadTime)
				_, ok := metricValue(body, gone)
				return at != before && !ok
			})
			continue
		}
		if code, body := d.postReload(t); code != http.StatusOK {
			t.Fatalf("reload %d: status %d: %s", i, code, body)
		}
		// A removed target's series are gone as soon as the reload answers.
		if _, body := d.get(t, "/metrics"); strings.Contains(body, gone) {
			t.Fatalf("reload %d: %s still exported after its target was removed", i, gone)
		}
	}

	// A bad config is refused with file, line and key; the old one stays.
	d.writeConfig(t, "targets:\n  - domian: good.test\n")
	code, body := d.postReload(t)
	if code != http.StatusInternalServerError || !strings.Contains(body, d.configFile+`:2: targets[0].domian: unknown key (did you mean "domain"?)`) {
		t.Fatalf("bad reload: status %d body %q; want 500 naming file, line and key", code, body)
	}
	_, metrics := d.get(t, "/metrics")
	if v, _ := metricValue(metrics, "mx_exporter_config_last_reload_successful"); v != "0" {
		t.Fatalf("mx_exporter_config_last_reload_successful = %q after a bad reload, want 0", v)
	}
	if _, ok := metricValue(metrics, good); !ok {
		t.Fatalf("the running config's targets vanished after a bad reload")
	}
	d.writeConfig(t, withRelay)
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("good reload after a bad one: %d %s", code, body)
	}
	_, metrics = d.get(t, "/metrics")
	if v, _ := metricValue(metrics, "mx_exporter_config_last_reload_successful"); v != "1" {
		t.Fatalf("mx_exporter_config_last_reload_successful = %q after a good reload, want 1", v)
	}

	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if scrapes.Load() == 0 {
		t.Fatal("no scrape completed while reloading")
	}
	t.Logf("%d scrapes during 32 reloads", scrapes.Load())

	resp, err := http.Get("http://" + d.addr + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /-/reload: status %d, want 405", resp.StatusCode)
	}

	d.shutdown(t)
	waitFor(t, 5*time.Second, "goroutines to return to their number before the daemon started", func() bool {
		http.DefaultClient.CloseIdleConnections()
		return runtime.NumGoroutine() <= before
	})
}

func TestDaemonProbeEndpoint(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, "  - domain: good.test\n"))
	code, body := d.get(t, "/probe?target=good.test")
	if code != http.StatusOK || !strings.Contains(body, `mx_target_success{domain="good.test"} 1`) {
		t.Fatalf("/probe of a configured target: %d\n%s", code, body)
	}
	if strings.Contains(body, "go_goroutines") {
		t.Fatalf("/probe answered the exporter's own metrics too; want the probe's only")
	}
	code, body = d.get(t, "/probe?target=relay.test")
	if code != http.StatusForbidden {
		t.Fatalf("/probe of a target outside the allow-list: %d, want 403\n%s", code, body)
	}
}

// TestReloadPicksUpRotatedCAFile: an operator replaces the CA bundle a
// module names and reloads. The config text is the same, so the target
// keeps its schedule, but its probes must verify with the new bundle.
func TestReloadPicksUpRotatedCAFile(t *testing.T) {
	env := testenv.Require(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	// A CA that signed nothing of the test servers'.
	unrelatedCA := testcert.New(testcert.Options{CommonName: "unrelated test CA", CA: true}, nil)
	if err := os.WriteFile(caFile, unrelatedCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The test servers' config with every module verifying against caFile.
	d := startDaemon(t, strings.ReplaceAll(testConfig(env, "  - domain: good.test\n"), env.CAFile, caFile))

	const verified = `mx_tls_cert_verified{domain="good.test",ip="127.0.1.1",mx="mx1.good.test"}`
	waitFor(t, 15*time.Second, "mx1.good.test's certificate to fail verification with the unrelated CA", func() bool {
		_, body := d.get(t, "/metrics")
		v, ok := metricValue(body, verified)
		return ok && v == "0"
	})

	ca, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	waitFor(t, 15*time.Second, "mx1.good.test's certificate to verify with the rotated CA file", func() bool {
		_, body := d.get(t, "/metrics")
		v, ok := metricValue(body, verified)
		return ok && v == "1"
	})
}

// TestReloadRefusesToRemoveEveryTarget: a file caught empty or truncated
// in the middle of a save would stop every probe. Such a reload is refused,
// the metric says it failed and the running targets go on; a file that says
// "targets: []" removes them.
func TestReloadRefusesToRemoveEveryTarget(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, "  - domain: good.test\n"))
	const good = `mx_target_success{domain="good.test"}`
	waitFor(t, 15*time.Second, "good.test to be probed", func() bool {
		_, body := d.get(t, "/metrics")
		_, ok := metricValue(body, good)
		return ok
	})
	for _, tt := range []struct{ name, text string }{
		{"empty", ""},
		{"comment only", "# mx_exporter.yml, half written\n"},
		{"no targets key", env.Config(testModules, "")},
		{"null targets", testConfig(env, "")},
	} {
		d.writeConfig(t, tt.text)
		code, body := d.postReload(t)
		if code != http.StatusInternalServerError || !strings.Contains(body, "would remove all 1 running ones") ||
			!strings.Contains(body, `write "targets: []" to remove every target`) {
			t.Errorf("%s: POST /-/reload: %d %q, want 500 and the refusal", tt.name, code, body)
		}
		_, metrics := d.get(t, "/metrics")
		if v, _ := metricValue(metrics, "mx_exporter_config_last_reload_successful"); v != "0" {
			t.Errorf("%s: mx_exporter_config_last_reload_successful %q after the refusal, want 0", tt.name, v)
		}
		if v, _ := metricValue(metrics, "mx_exporter_targets"); v != "1" {
			t.Errorf("%s: mx_exporter_targets %q after the refusal, want 1 (the running config)", tt.name, v)
		}
	}
	if !strings.Contains(d.logs.String(), "would remove all 1 running ones") {
		t.Errorf("the refusal is not logged")
	}

	d.writeConfig(t, env.Config(testModules, "targets: []\n"))
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload with targets: []: %d %q, want 200", code, body)
	}
	_, metrics := d.get(t, "/metrics")
	if v, _ := metricValue(metrics, "mx_exporter_config_last_reload_successful"); v != "1" {
		t.Errorf("mx_exporter_config_last_reload_successful %q after targets: [], want 1", v)
	}
	if v, _ := metricValue(metrics, "mx_exporter_targets"); v != "0" {
		t.Errorf("mx_exporter_targets %q after targets: [], want 0", v)
	}

	// With no target running, a file without targets is no loss: accepted.
	d.writeConfig(t, "")
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Errorf("POST /-/reload of an empty file with no targets running: %d %q, want 200", code, body)
	}
}
