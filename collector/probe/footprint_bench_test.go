package probe

import (
	"context"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// BenchmarkResultFootprintDefaults is BenchmarkResultFootprint with what a
// daemon module does by default (config's built-in defaults): dane and
// mta_sts enforce, reverse_dns on, both address families, one Prober with
// an MTA-STS cache for every probe. It probes the 5,000 domains of the scale
// zone in turn (dNNNN.scale.test, two MX hosts each among 20 listeners, no
// MTA-STS policy), as the scale benchmark's daemon does, and keeps every
// report:
//
//	go test -run '^$' -bench ResultFootprintDefaults -benchtime 1x ./collector/probe/
//
// MX_FOOTPRINT_HEAPPROFILE=FILE writes a heap profile while the reports
// are live. shared-B/endpoint is the live heap the reports hold; cpu-ms/probe is
// this process's CPU time per probe while they ran (a target of two
// dialogues, with its DNS lookups).
func BenchmarkResultFootprintDefaults(b *testing.B) {
	env := testenv.Require(b)
	p := &Prober{Policies: mtasts.NewCache()}
	s := testSettings(b, env, "good.test")
	s.DANE = dane.ModeEnforce
	s.MTASTS = mtasts.ModeEnforce
	s.MTASTSRefresh = time.Hour
	s.ReverseDNS = true
	s.DNS.Families = []dnsmx.Family{dnsmx.IPv4, dnsmx.IPv6}
	const reportsKept, workers = 1000, 32
	for b.Loop() {
		base := heapAfterGC()
		cpu0 := cpuTime(b)
		reports := make([]*Report, reportsKept)
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < reportsKept; i = next.Add(1) - 1 {
					reports[i] = p.Probe(context.Background(), Target{Domain: scaleDomain(int(i))}, s)
				}
			})
		}
		wg.Wait()
		cpu := cpuTime(b) - cpu0
		endpoints := 0
		for _, rep := range reports {
			if !rep.Success() {
				b.Fatalf("%s failed: %s", rep.Target.Name(), describeHosts(rep))
			}
			for _, h := range rep.Hosts {
				endpoints += len(h.Results)
			}
		}
		shared := heapAfterGC() - base
		if f := os.Getenv("MX_FOOTPRINT_HEAPPROFILE"); f != "" {
			writeHeapProfile(b, f)
		}

		for i, rep := range reports {
			reports[i] = deepCopy(reflect.ValueOf(rep)).Interface().(*Report)
		}
		unshared := heapAfterGC() - base
		runtime.KeepAlive(reports)

		b.ReportMetric(float64(shared)/float64(endpoints), "shared-B/endpoint")
		b.ReportMetric(float64(unshared)/float64(endpoints), "unshared-B/endpoint")
		b.ReportMetric(float64(cpu.Microseconds())/1000/reportsKept, "cpu-ms/probe")
	}
}

// scaleDomain is the i-th domain of the test zone's scale domains.
func scaleDomain(i int) string {
	const digits = "0123456789"
	return "d" + string([]byte{digits[i/1000%10], digits[i/100%10], digits[i/10%10], digits[i%10]}) + ".scale.test"
}

// writeHeapProfile writes a heap profile (after a GC) to file.
func writeHeapProfile(b *testing.B, file string) {
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
