package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// BenchmarkSoak runs the daemon as a process of its own for a long time on
// a mix of healthy, failing and hostile targets probed every few seconds,
// scrapes it as Prometheus would, asks /probe and /status, reloads its
// config now and then (adding and removing targets), and samples its
// memory, goroutines and open files. It answers one question: does the
// daemon's resident memory settle, or does something grow? Run it alone:
//
//	go test -run '^$' -bench Soak -benchtime 1x -timeout 90m ./cmd/mx_exporter/
//
// MX_SOAK_DURATION sets the run (default 1h), MX_SOAK_SAMPLE the sampling
// interval (default 1m), MX_SOAK_CSV a file for every sample.
//
// The targets: every healthy and failing scenario of the test servers
// (STARTTLS, DANE, MTA-STS, DNSSEC bogus, greylisting, slow replies, an open
// relay, refused connections, NXDOMAIN, null MX...) through the validating
// resolver, 100 scale domains, and six fake SMTP servers of this benchmark,
// for what no real server can be made to do: hostile text (HostileSMTP), a
// server that never speaks, one that floods a reply line without end, one
// that dribbles its banner a byte at a time, one that closes at once and
// one that answers out of step.
func BenchmarkSoak(b *testing.B) {
	env := testenv.Require(b)
	duration := envDuration(b, "MX_SOAK_DURATION", time.Hour)
	every := envDuration(b, "MX_SOAK_SAMPLE", time.Minute)
	const scaleDomains = 100

	hostile := []int{
		testenv.HostileSMTP(b, "abc"),
		testenv.FakeSMTP(b, serveSilent),
		testenv.FakeSMTP(b, serveFlood),
		testenv.FakeSMTP(b, serveDribble),
		testenv.FakeSMTP(b, func(c net.Conn) {}),
		testenv.FakeSMTP(b, serveOutOfStep),
	}
	config := func(scale int) string {
		var t strings.Builder
		t.WriteString("targets:\n")
		for _, d := range soakDomains {
			fmt.Fprintf(&t, "  - domain: %s\n", d)
		}
		t.WriteString("  - domain: relay.test\n    module: relay\n")
		t.WriteString("  - domain: greylist.test\n    module: greylist\n")
		t.WriteString("  - domain: multiline.test\n    module: patient\n")
		for _, port := range hostile {
			fmt.Fprintf(&t, "  - host: 127.0.0.1:%d\n", port)
		}
		for i := range scale {
			fmt.Fprintf(&t, "  - domain: d%04d.scale.test\n    module: scale\n", i)
		}
		modules := []testenv.Module{
			{Name: "default", Interval: 5 * time.Second, Timeout: 4 * time.Second},
			{Name: "relay", Recipients: []string{"postmaster@relay.test"}, Interval: 5 * time.Second, Timeout: 4 * time.Second},
			{Name: "greylist", Recipients: []string{"postmaster@greylist.test"}, Interval: 5 * time.Second, Timeout: 4 * time.Second},
			{Name: "patient", Interval: 6 * time.Second, Timeout: 6 * time.Second},
			{Name: "scale", Interval: 15 * time.Second, Timeout: 10 * time.Second},
		}
		rest := "dnsbl:\n  zones: [bl.test]\n" +
			"probe_endpoint:\n  allow:\n    domains: [good.test]\n    resolved_addresses: any\n" +
			t.String()
		return env.ValidatingConfig(modules, rest)
	}

	binary := buildExporter(b)
	for b.Loop() {
		d := startDaemonProcess(b, binary, config(scaleDomains), "--log.level=warn")
		var load soakLoad
		stop := load.start(d.addr)

		var samples []soakSample
		start := time.Now()
		next := start
		reloads := 0
		for elapsed := time.Duration(0); elapsed <= duration; elapsed = time.Since(start) {
			samples = append(samples, sampleDaemon(b, d, elapsed))
			next = next.Add(every)
			// A reload every fifth sample, dropping and re-adding a
			// fifth of the scale domains: their series, cache entries
			// and schedules must go when they go.
			if len(samples)%5 == 0 {
				reloads++
				scale := scaleDomains
				if reloads%2 == 1 {
					scale = scaleDomains * 4 / 5
				}
				if err := os.WriteFile(d.cfgFile, []byte(config(scale)), 0o644); err != nil {
					b.Fatal(err)
				}
				if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(time.Until(next))
		}
		stop()
		failed := strings.Count(d.logs.String(), "reload failed")

		writeSoakCSV(b, samples)
		logSoak(b, samples)
		first, last := samples[len(samples)/10], samples[len(samples)-1]
		mid := samples[len(samples)/2]
		maxRSS := 0.0
		for _, s := range samples {
			maxRSS = max(maxRSS, s.rss)
		}
		b.ReportMetric(duration.Minutes(), "minutes")
		b.ReportMetric(first.rss, "RSS-MiB-at-10%")
		b.ReportMetric(mid.rss, "RSS-MiB-at-50%")
		b.ReportMetric(last.rss, "RSS-MiB-at-end")
		b.ReportMetric(maxRSS, "RSS-MiB-max")
		b.ReportMetric(last.rss-mid.rss, "RSS-MiB-growth-second-half")
		b.ReportMetric(last.heap, "heap-inuse-MiB-at-end")
		b.ReportMetric(last.heap-mid.heap, "heap-MiB-growth-second-half")
		b.ReportMetric(last.goroutines-first.goroutines, "goroutine-growth")
		b.ReportMetric(last.fds-first.fds, "open-file-growth")
		b.ReportMetric(last.probes/time.Since(start).Seconds(), "target-probes/s")
		b.ReportMetric(float64(load.scrapes.Load()), "scrapes")
		b.ReportMetric(float64(load.errors.Load()), "request-errors")
		b.ReportMetric(float64(reloads), "reloads")
		b.ReportMetric(float64(failed), "failed-reloads")
		d.shutdown(b)
	}
}

// soakDomains are the domain targets of the default module: every
// scenario of the test servers that a plain probe can be aimed at.
var soakDomains = []string{
	"good.test", "tls.test", "chain.test", "multi.test", "cname.test", "v6.test", "nopipe.test",
	"reject.test", "partial.test", "nullmx.test", "implicit.test", "slow.test", "notls.test",
	"expired.test", "noaddr.test", "nodata.test", "missing.test",
	"ee.dnssec.test", "rollover.dnssec.test", "mismatch.dnssec.test", "ta.dnssec.test",
	"bogus.dnssec.test", "bogusmx.dnssec.test", "unsigned.test",
	"enforce.sts.test", "uncovered.sts.test", "redirect.sts.test", "big.sts.test",
	"expiredhost.sts.test", "syntax.sts.test", "duptxt.sts.test",
}

// soakSample is one look at the daemon: sizes in MiB.
type soakSample struct {
	at         time.Duration
	rss        float64 // VmRSS
	heap       float64 // go_memstats_heap_inuse_bytes
	retained   float64 // heap the runtime holds from the OS: heap_sys - heap_released
	stacks     float64 // go_memstats_stack_inuse_bytes
	goroutines float64
	fds        float64 // entries of /proc/PID/fd
	probes     float64 // mx_exporter_probes_total, every result
}

func sampleDaemon(t testing.TB, d *daemonProcess, at time.Duration) soakSample {
	t.Helper()
	pid := d.cmd.Process.Pid
	s := soakSample{at: at, rss: float64(procStatusKB(t, fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")) / 1024}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	s.fds = float64(len(fds))
	v := selfSeries(t, d.addr, "go_memstats_heap_inuse_bytes", "go_memstats_heap_sys_bytes",
		"go_memstats_heap_released_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines")
	s.heap = v["go_memstats_heap_inuse_bytes"] / (1 << 20)
	s.retained = (v["go_memstats_heap_sys_bytes"] - v["go_memstats_heap_released_bytes"]) / (1 << 20)
	s.stacks = v["go_memstats_stack_inuse_bytes"] / (1 << 20)
	s.goroutines = v["go_goroutines"]
	m := scrapeFamilies(t, d)
	s.probes = value(m, "mx_exporter_probes_total", "result", "success") + value(m, "mx_exporter_probes_total", "result", "failure")
	return s
}

// selfSeries reads the values of unlabelled series from /metrics.
func selfSeries(t testing.TB, addr string, names ...string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = f
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape: %v", err)
	}
	for _, n := range names {
		if _, ok := got[n]; !ok {
			t.Fatalf("no series %s in /metrics", n)
		}
	}
	return got
}

// procStatusKB reads a "kB" field of a /proc status file.
func procStatusKB(t testing.TB, statusFile, field string) int64 {
	t.Helper()
	f, err := os.Open(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in %s", field, statusFile)
	return 0
}

// soakLoad is what a Prometheus and a person ask of the daemon during the
// soak: /metrics with gzip every 5 s (a second Prometheus every 15 s, in
// text), /probe of an allowed domain every 5 s, /status every 30 s.
type soakLoad struct {
	scrapes atomic.Int64
	errors  atomic.Int64
}

func (l *soakLoad) start(addr string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	ask := func(every time.Duration, path string, compressed bool) {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-done:
					client.CloseIdleConnections()
					return
				case <-tick.C:
				}
				if err := l.get(client, "http://"+addr+path, compressed); err != nil {
					l.errors.Add(1)
				}
				l.scrapes.Add(1)
			}
		})
	}
	ask(5*time.Second, "/metrics", true)
	ask(15*time.Second, "/metrics", false)
	ask(5*time.Second, "/probe?target=good.test", true)
	ask(30*time.Second, "/status", false)
	return func() { close(done); wg.Wait() }
}

func (l *soakLoad) get(client *http.Client, url string, compressed bool) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if compressed {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return err
		}
		body = zr
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}

func logSoak(t testing.TB, samples []soakSample) {
	t.Helper()
	var b strings.Builder
	b.WriteString("minute  RSS-MiB  heap-inuse  heap-retained  stacks  goroutines  open-files  probes\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%6.1f  %7.1f  %10.1f  %13.1f  %6.2f  %10.0f  %10.0f  %6.0f\n",
			s.at.Minutes(), s.rss, s.heap, s.retained, s.stacks, s.goroutines, s.fds, s.probes)
	}
	t.Log("\n" + b.String())
}

func writeSoakCSV(t testing.TB, samples []soakSample) {
	t.Helper()
	path := os.Getenv("MX_SOAK_CSV")
	if path == "" {
		return
	}
	var b strings.Builder
	b.WriteString("seconds,rss_mib,heap_inuse_mib,heap_retained_mib,stack_inuse_mib,goroutines,open_files,probes\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%.0f,%.2f,%.2f,%.2f,%.3f,%.0f,%.0f,%.0f\n",
			s.at.Seconds(), s.rss, s.heap, s.retained, s.stacks, s.goroutines, s.fds, s.probes)
	}
	if err := os.WriteFile(filepath.Clean(path), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// serveSilent never speaks: the probe must end at its timeout.
func serveSilent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// serveFlood sends a banner line that never ends, until the probe hangs up.
func serveFlood(c net.Conn) {
	chunk := []byte("220-" + strings.Repeat("A", 4092))
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// serveDribble sends a banner a byte every 300 ms, then nothing more.
func serveDribble(c net.Conn) {
	for _, ch := range []byte("220 dribble.test ESMTP\r\n") {
		if _, err := c.Write([]byte{ch}); err != nil {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	_, _ = io.Copy(io.Discard, c)
}

// serveOutOfStep answers each command with two replies: every reply after
// the first is one step behind.
func serveOutOfStep(c net.Conn) {
	send := func(s string) bool { _, err := c.Write([]byte(s)); return err == nil }
	if !send("220 outofstep.test ESMTP\r\n") {
		return
	}
	r := bufio.NewReader(c)
	for {
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		if !send("250-outofstep.test\r\n250 PIPELINING\r\n250 2.0.0 extra\r\n") {
			return
		}
	}
}
