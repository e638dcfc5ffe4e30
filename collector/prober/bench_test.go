package prober

import (
	"context"
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
	p := newTestProber(b, env)
	s := testSettings(env, "good.test")
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
