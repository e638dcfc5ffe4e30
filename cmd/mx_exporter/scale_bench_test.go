package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// BenchmarkScale10k runs the whole daemon (scheduler, probes, collector,
// HTTP) on 10,000 endpoints: the 5,000 domains dNNNN.scale.test of the test
// zone, each with two MX hosts among the 20 scale listeners of the test
// Postfix (STARTTLS, RCPT, relay check). The probe interval is 60 s, as in
// the goal; the benchmark waits out the first interval (the splayed first
// probes) and measures the next one. Run it alone:
//
//	go test -run '^$' -bench Scale10k -benchtime 1x -timeout 30m ./cmd/mx_exporter/
//
// MX_SCALE_MEASURE overrides the measured window (default 60s).
//
// The daemon runs as a process of its own, built from this package, so
// that its peak RSS (VmHWM of that process) is the exporter's alone and not
// inflated by this benchmark parsing whole scrapes. MX_SCALE_HEAPPROFILE=FILE
// runs it inside the benchmark instead and writes a heap profile of it at
// the end; the RSS figure then includes the benchmark's own memory.
func BenchmarkScale10k(b *testing.B) {
	env := testenv.Require(b)
	const domains = 5000
	window := time.Minute
	if v := os.Getenv("MX_SCALE_MEASURE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("MX_SCALE_MEASURE: %v", err)
		}
		window = d
	}

	var targets strings.Builder
	for i := range domains {
		fmt.Fprintf(&targets, "  - domain: d%04d.scale.test\n", i)
	}
	cfg := fmt.Sprintf(`dns:
  resolvers: [%q]
modules:
  default:
    ehlo: probe.mx-exporter.test
    interval: 60s
    timeout: 15s
    recipients: [postmaster@good.test]
    relay_check: %s
    tls:
      ca_file: %s
targets:
%s`, env.Resolver, env.RelayAddress, env.CAFile, targets.String())

	profile := os.Getenv("MX_SCALE_HEAPPROFILE")
	var binary string
	if profile == "" {
		binary = buildExporter(b)
	}
	for b.Loop() {
		args := []string{"--log.level=warn", "--probe.max-concurrent=128"}
		var d scaleDaemon
		if profile == "" {
			d = startDaemonProcess(b, binary, cfg, args...)
		} else {
			d = inProcess{startDaemon(b, cfg, args...)}
		}

		// The first interval: every target's splayed first probe.
		start := time.Now()
		waitFor(b, 2*time.Minute, "the first probe of every target", func() bool {
			m := scrapeFamilies(b, d)
			return value(m, "mx_exporter_probes_total", "result", "success")+value(m, "mx_exporter_probes_total", "result", "failure") >= domains
		})
		warmup := time.Since(start)

		before := scrapeFamilies(b, d)
		cpu0 := d.cpuTime(b)
		time.Sleep(window) // the measured window: the daemon works on its own
		cpu := d.cpuTime(b) - cpu0
		after := scrapeFamilies(b, d)

		probes := func(m map[string]*dto.MetricFamily, result string) float64 {
			return value(m, "mx_exporter_probes_total", "result", result)
		}
		ok := probes(after, "success") - probes(before, "success")
		failed := probes(after, "failure") - probes(before, "failure")
		lag := after["mx_exporter_scheduler_lag_seconds"].GetMetric()[0].GetHistogram()
		lagBefore := before["mx_exporter_scheduler_lag_seconds"].GetMetric()[0].GetHistogram()

		scrapeTime, scrapeMax, scrapeBytes := timeScrapes(b, d, false)
		gzipTime, gzipMax, gzipBytes := timeScrapes(b, d, true)
		endpoints := value(after, "mx_exporter_endpoints", "", "")

		b.ReportMetric(endpoints, "endpoints")
		b.ReportMetric(ok/window.Seconds(), "target-probes/s")
		b.ReportMetric(2*(ok+failed)/window.Seconds(), "dialogues/s")
		// The daemon's CPU (user+system) in the window, per dialogue
		// started in it: the scheduling, probes, DNS and bookkeeping,
		// without the scrapes (taken outside it).
		b.ReportMetric(float64(cpu.Microseconds())/1000/(2*(ok+failed)), "daemon-cpu-ms/dialogue")
		b.ReportMetric(failed, "failed-probes")
		b.ReportMetric(quantile(0.99, lag, lagBefore), "lag-p99-s")
		b.ReportMetric(shareWithin(1, lag, lagBefore), "lag-share-under-1s")
		b.ReportMetric(float64(d.peakRSS(b))/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(scrapeTime.Microseconds())/1000, "scrape-ms")
		b.ReportMetric(float64(scrapeMax.Microseconds())/1000, "scrape-max-ms")
		b.ReportMetric(float64(gzipMax.Microseconds())/1000, "scrape-gzip-max-ms")
		b.ReportMetric(float64(scrapeBytes)/(1<<20), "scrape-MiB")
		b.ReportMetric(float64(gzipTime.Microseconds())/1000, "scrape-gzip-ms")
		b.ReportMetric(float64(gzipBytes)/(1<<20), "scrape-gzip-MiB")
		b.ReportMetric(warmup.Seconds(), "first-round-s")
		if profile != "" {
			writeHeapProfile(b, profile)
		}
		d.shutdown(b)
	}
}

// scrapeFamilies reads the daemon's self-monitoring families (the full
// exposition is large: parse only the lines that matter).
func scrapeFamilies(t testing.TB, d interface{ address() string }) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + d.address() + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	var keep strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "mx_exporter_") {
			keep.WriteString(line)
			keep.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	m, err := parser.TextToMetricFamilies(strings.NewReader(keep.String()))
	if err != nil {
		t.Fatalf("parsing self-monitoring series: %v", err)
	}
	return m
}

func value(m map[string]*dto.MetricFamily, name, label, want string) float64 {
	for _, mt := range m[name].GetMetric() {
		match := label == ""
		for _, lp := range mt.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == want {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case mt.Counter != nil:
			return mt.Counter.GetValue()
		case mt.Gauge != nil:
			return mt.Gauge.GetValue()
		}
	}
	return 0
}

// quantile estimates the q-quantile of the observations made between two
// snapshots of a histogram, as histogram_quantile would (linear within the
// bucket).
func quantile(q float64, now, before *dto.Histogram) float64 {
	count := float64(now.GetSampleCount() - before.GetSampleCount())
	if count == 0 {
		return math.NaN()
	}
	rank := q * count
	lower, prevCum := 0.0, 0.0
	for i, bk := range now.GetBucket() {
		cum := float64(bk.GetCumulativeCount() - before.GetBucket()[i].GetCumulativeCount())
		if cum >= rank {
			upper := bk.GetUpperBound()
			if cum == prevCum {
				return upper
			}
			return lower + (upper-lower)*(rank-prevCum)/(cum-prevCum)
		}
		lower, prevCum = bk.GetUpperBound(), cum
	}
	return math.Inf(1)
}

// shareWithin is the share of observations between two snapshots that were
// at most le (an upper bound of the histogram).
func shareWithin(le float64, now, before *dto.Histogram) float64 {
	count := float64(now.GetSampleCount() - before.GetSampleCount())
	for i, bk := range now.GetBucket() {
		if bk.GetUpperBound() == le {
			return float64(bk.GetCumulativeCount()-before.GetBucket()[i].GetCumulativeCount()) / count
		}
	}
	return math.NaN()
}

// timeScrapes times scrapesTimed full GETs of /metrics, one after the
// other, while the daemon keeps probing; it returns the median and the
// slowest, and the bytes of the last.
func timeScrapes(t testing.TB, d scaleDaemon, compressed bool) (median, slowest time.Duration, size int64) {
	const scrapesTimed = 5
	times := make([]time.Duration, scrapesTimed)
	for i := range times {
		times[i], size = timeScrape(t, d, compressed)
	}
	slices.Sort(times)
	return times[len(times)/2], times[len(times)-1], size
}

// timeScrape times one full GET /metrics and returns the bytes transferred.
func timeScrape(t testing.TB, d scaleDaemon, compressed bool) (time.Duration, int64) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+d.address()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	if compressed {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	elapsed := time.Since(start)
	if compressed && resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("asked for gzip, got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	return elapsed, n
}

// writeHeapProfile writes the live heap after a GC, to see what the memory
// is made of: go tool pprof -sample_index=inuse_space PATH.
func writeHeapProfile(t testing.TB, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after GC: %.1f MiB; heap sys %.1f MiB; heap profile in %s", float64(ms.HeapInuse)/(1<<20), float64(ms.HeapSys)/(1<<20), path)
}

// scaleDaemon is the daemon under benchmark: a process of its own or run
// inside the benchmark.
type scaleDaemon interface {
	address() string
	peakRSS(testing.TB) int64
	cpuTime(testing.TB) time.Duration
	shutdown(testing.TB)
}

type inProcess struct{ *runningDaemon }

func (d inProcess) address() string            { return d.addr }
func (d inProcess) peakRSS(t testing.TB) int64 { return peakRSS(t, "/proc/self/status") }
func (d inProcess) shutdown(t testing.TB)      { d.runningDaemon.shutdown(t) }

// cpuTime of the benchmark's own process, daemon and benchmark together.
func (d inProcess) cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// daemonProcess is mx_exporter started as a child process.
type daemonProcess struct {
	addr    string
	cfgFile string
	cmd     *exec.Cmd
	logs    *testenv.LockedBuffer
	done    chan error
}

func (d *daemonProcess) address() string { return d.addr }

func (d *daemonProcess) peakRSS(t testing.TB) int64 {
	return peakRSS(t, fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
}

// cpuTime is the child's user+system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s: USER_HZ is
// 100 on every Linux architecture Go builds for).
func (d *daemonProcess) cpuTime(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count the fields after its closing one, starting at field 3.
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		t.Fatalf("/proc/%d/stat: %q", d.cmd.Process.Pid, b)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// shutdown sends SIGTERM, as a service manager would, and expects a clean
// exit.
func (d *daemonProcess) shutdown(t testing.TB) {
	t.Helper()
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("daemon: %v\n%s", err, d.logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("daemon did not stop within 30 s of SIGTERM")
	}
}

// buildExporter builds this package's binary into a temporary directory.
func buildExporter(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mx_exporter")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDaemonProcess runs binary on config and waits until it answers.
func startDaemonProcess(t testing.TB, binary, config string, extraArgs ...string) *daemonProcess {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "mx_exporter.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemonProcess{addr: freeAddr(t), cfgFile: cfgFile, logs: &testenv.LockedBuffer{}, done: make(chan error, 1)}
	args := append([]string{"--config.file=" + cfgFile, "--web.listen-address=" + d.addr}, extraArgs...)
	d.cmd = exec.Command(binary, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.shutdown(t) })
	waitHealthy(t, d.addr)
	return d
}

// peakRSS reads a process's high-water resident set (VmHWM) in bytes from
// its /proc status file.
func peakRSS(t testing.TB, statusFile string) int64 {
	t.Helper()
	return procStatusKB(t, statusFile, "VmHWM:") << 10
}
