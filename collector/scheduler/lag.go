package scheduler

import "sync"

// LagBuckets are the upper bounds, in seconds, of the scheduler-lag
// histogram: how late a probe started against its plan. Under a second is
// healthy; more means the concurrency limit or the machine is too small.
var LagBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// LagSnapshot is the histogram in Prometheus' shape, as the self metrics
// export it: cumulative counts per upper bound.
type LagSnapshot struct {
	UpperBounds []float64 // ascending, without +Inf: LagBuckets
	Cumulative  []uint64  // observations <= UpperBounds[i]; same length
	Count       uint64    // all observations (the +Inf bucket)
	Sum         float64
}

type lagHistogram struct {
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; last is +Inf
	count  uint64
	sum    float64
}

func newLagHistogram() *lagHistogram {
	return &lagHistogram{counts: make([]uint64, len(LagBuckets)+1)}
}

func (h *lagHistogram) observe(v float64) {
	if v < 0 {
		v = 0 // a probe started a hair early by the clock's rounding
	}
	i := 0
	for i < len(LagBuckets) && v > LagBuckets[i] {
		i++
	}
	h.mu.Lock()
	h.counts[i]++
	h.count++
	h.sum += v
	h.mu.Unlock()
}

func (h *lagHistogram) snapshot() LagSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := LagSnapshot{UpperBounds: LagBuckets, Cumulative: make([]uint64, len(LagBuckets)), Count: h.count, Sum: h.sum}
	var cum uint64
	for i := range LagBuckets {
		cum += h.counts[i]
		s.Cumulative[i] = cum
	}
	return s
}
