package probe

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// cpuTime is the user+system CPU time this process has used.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProbeHealthyDomain probes good.test end to end (MX lookup, then
// mx1 with STARTTLS and mx2 without, RCPT and relay check on both) against
// the real nsd and Postfix. wall-ms/op includes the servers' time;
// cpu-ms/op is the exporter's own CPU time per probe (this process only:
// Postfix and nsd are other processes).
func BenchmarkProbeHealthyDomain(b *testing.B) {
	env := testenv.Require(b)
	p := &Prober{}
	s := testSettings(b, env, "good.test")
	ctx := context.Background()
	if rep := p.Probe(ctx, Target{Domain: "good.test"}, s); !rep.Success() {
		b.Fatalf("good.test does not probe healthy: %s", describeHosts(rep))
	}
	b.ResetTimer()
	cpu0, wall0 := cpuTime(b), time.Now()
	for b.Loop() {
		if rep := p.Probe(ctx, Target{Domain: "good.test"}, s); !rep.Success() {
			b.Fatalf("good.test failed mid-benchmark: %s", describeHosts(rep))
		}
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	b.ReportMetric(float64(wall.Microseconds())/1000/float64(b.N), "wall-ms/op")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkResultFootprint measures what the daemon keeps per endpoint
// between probes: the last report of each target. Run it with
//
//	go test -run '^$' -bench ResultFootprint -benchtime 1x ./collector/probe/
//
// It probes good.test (two MX addresses, STARTTLS on one, RCPT and relay
// check on both) reportsKept times against the real servers and keeps every
// report, as the store keeps one per target. shared-B/endpoint is the live
// heap as the probes leave it: reply text that repeats (the same gateway
// answering for many domains) is stored once. unshared-B/endpoint is the
// same reports with every string, slice and pointer copied, as if each
// endpoint were a different gateway with text of its own: the worst case.
func BenchmarkResultFootprint(b *testing.B) {
	env := testenv.Require(b)
	p := &Prober{}
	s := testSettings(b, env, "good.test")
	const reportsKept, workers = 500, 16
	for b.Loop() {
		base := heapAfterGC()
		reports := make([]*Report, reportsKept)
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < reportsKept; i = next.Add(1) - 1 {
					reports[i] = p.Probe(context.Background(), Target{Domain: "good.test"}, s)
				}
			})
		}
		wg.Wait()
		endpoints := 0
		for _, rep := range reports {
			if !rep.Success() {
				b.Fatalf("good.test failed: %s", describeHosts(rep))
			}
			for _, h := range rep.Hosts {
				endpoints += len(h.Results)
			}
		}
		shared := heapAfterGC() - base

		for i, rep := range reports {
			reports[i] = deepCopy(reflect.ValueOf(rep)).Interface().(*Report)
		}
		unshared := heapAfterGC() - base
		runtime.KeepAlive(reports)

		b.ReportMetric(float64(shared)/float64(endpoints), "shared-B/endpoint")
		b.ReportMetric(float64(unshared)/float64(endpoints), "unshared-B/endpoint")
	}
}

func heapAfterGC() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// deepCopy copies v so that it shares no memory with the original: every
// pointer, slice, map and string is new. Unexported fields (time.Time's,
// netip.Addr's) are copied as values.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(deepCopy(it.Key()), deepCopy(it.Value()))
		}
		return out
	case reflect.String:
		return reflect.ValueOf(strings.Clone(v.String())).Convert(v.Type())
	default:
		return v
	}
}
