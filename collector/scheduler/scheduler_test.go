package scheduler

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

func TestSplaySpreadsOverInterval(t *testing.T) {
	const interval = time.Minute
	var buckets [6]int
	for i := range 6000 {
		off := splay(string(rune('a'+i%26))+time.Duration(i).String(), interval)
		if off < 0 || off >= interval {
			t.Fatalf("splay = %v, want in [0, %v)", off, interval)
		}
		buckets[off/(10*time.Second)]++
	}
	for i, n := range buckets {
		if n < 800 || n > 1200 {
			t.Fatalf("bucket %d of 6 holds %d of 6000 first runs, want about 1000: %v", i, n, buckets)
		}
	}
	if a, b := splay("example.com\x00default", interval), splay("example.com\x00default", interval); a != b {
		t.Fatalf("splay is not stable: %v then %v", a, b)
	}
}

func TestAdvanceKeepsPhaseAndSkipsMissedTurns(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC)
	s := &Scheduler{opts: Options{MaxJitter: -1}}
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"on time", base.Add(time.Millisecond), base.Add(time.Minute)},
		{"late but within the interval", base.Add(59 * time.Second), base.Add(time.Minute)},
		{"missed two turns", base.Add(2*time.Minute + time.Second), base.Add(3 * time.Minute)},
		{"exactly at the next turn", base.Add(time.Minute), base.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &entry{job: Job{Interval: time.Minute}, next: base}
			s.advanceLocked(e, tt.now)
			if !e.next.Equal(tt.want) || !e.due.Equal(tt.want) {
				t.Fatalf("next = %v due = %v, want %v", e.next, e.due, tt.want)
			}
		})
	}
}

func TestJitterIsBounded(t *testing.T) {
	s := &Scheduler{}
	for range 1000 {
		if j := s.jitter(time.Minute); j < 0 || j >= 600*time.Millisecond {
			t.Fatalf("jitter(1m) = %v, want in [0, 600ms)", j)
		}
		if j := s.jitter(10 * time.Minute); j < 0 || j >= time.Second {
			t.Fatalf("jitter(10m) = %v, want in [0, 1s)", j)
		}
	}
}

func TestAddressGateSerialisesOneAddress(t *testing.T) {
	g := NewAddressGate()
	ctx := context.Background()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			release, err := g.Acquire(ctx, "127.0.1.1")
			if err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond) // hold it long enough for others to pile up
			inside.Add(-1)
			release()
		})
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Fatalf("%d dialogues to one address at once, want 1", m)
	}
	if n := g.Len(); n != 0 {
		t.Fatalf("gate still tracks %d addresses after all released, want 0", n)
	}
}

func TestAddressGateOtherAddressesDoNotWait(t *testing.T) {
	g := NewAddressGate()
	release, err := g.Acquire(context.Background(), "127.0.1.1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r2, err := g.Acquire(ctx, "127.0.1.2")
	if err != nil {
		t.Fatalf("second address waited for the first: %v", err)
	}
	r2()
}

func TestAddressGateHonoursContext(t *testing.T) {
	g := NewAddressGate()
	release, err := g.Acquire(context.Background(), "::1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := g.Acquire(ctx, "::1")
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Acquire of a busy address returned no error after its context was cancelled")
	}
	release()
	if n := g.Len(); n != 0 {
		t.Fatalf("gate tracks %d addresses, want 0", n)
	}
}

func TestLagHistogram(t *testing.T) {
	h := newLagHistogram()
	for _, v := range []float64{-0.001, 0.0005, 0.02, 0.3, 3, 100} {
		h.observe(v)
	}
	s := h.snapshot()
	if s.Count != 6 {
		t.Fatalf("count = %d, want 6", s.Count)
	}
	want := map[float64]uint64{0.001: 2, 0.05: 3, 0.5: 4, 5: 5, 30: 5}
	for i, ub := range s.UpperBounds {
		if n, ok := want[ub]; ok && s.Cumulative[i] != n {
			t.Fatalf("bucket le=%v = %d, want %d (all: %v)", ub, s.Cumulative[i], n, s.Cumulative)
		}
	}
}

func TestUpdateKeepsUnchangedJobs(t *testing.T) {
	st := store.New()
	s := New(&probe.Prober{}, st, Options{})
	job := func(name, fp string) Job {
		return Job{Key: store.Key(name, "default"), Name: name, Module: "default", Interval: time.Minute, Fingerprint: fp}
	}
	s.Update([]Job{job("a.test", "1"), job("b.test", "1")})
	st.Put(&store.Entry{Key: store.Key("a.test", "default"), Target: "a.test"})
	st.Put(&store.Entry{Key: store.Key("b.test", "default"), Target: "b.test"})
	s.mu.Lock()
	a, b := s.jobs[store.Key("a.test", "default")], s.jobs[store.Key("b.test", "default")]
	aNext := a.next
	s.mu.Unlock()

	// a.test unchanged (but its settings are rebuilt, as a reload does:
	// the CA file may have new contents), b.test changed, c.test new.
	a2 := job("a.test", "1")
	a2.Settings.Timeout = 7 * time.Second
	s.Update([]Job{a2, job("b.test", "2"), job("c.test", "1")})
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := s.jobs[store.Key("a.test", "default")]; got != a || !got.next.Equal(aNext) {
		t.Fatalf("unchanged job was rescheduled: entry %p→%p, next %v→%v", a, got, aNext, got.next)
	}
	if got := a.job.Settings.Timeout; got != 7*time.Second {
		t.Fatalf("unchanged job kept its old settings: timeout %v, want the reloaded 7s", got)
	}
	if got := s.jobs[store.Key("b.test", "default")]; got == b || got.job.Fingerprint != "2" || !b.removed {
		t.Fatalf("changed job was not replaced")
	}
	if s.jobs[store.Key("c.test", "default")] == nil || s.queue.Len() != 3 {
		t.Fatalf("new job missing: %d queued, want 3", s.queue.Len())
	}
	if st.Get(store.Key("a.test", "default")) == nil || st.Get(store.Key("b.test", "default")) == nil {
		t.Fatalf("results of kept targets were dropped")
	}

	s.mu.Unlock()
	s.Update([]Job{job("c.test", "1")})
	s.mu.Lock()
	if st.Len() != 0 || s.queue.Len() != 1 {
		t.Fatalf("after removing a.test and b.test: %d results, %d queued; want 0 and 1", st.Len(), s.queue.Len())
	}
}

// runContext is a run context that counts the children registered with it
// (context.WithCancel registers through AfterFunc when a parent has one)
// and not yet released.
type runContext struct {
	context.Context
	done chan struct{}

	mu       sync.Mutex
	children map[int]func()
	nextID   int
}

func (c *runContext) Done() <-chan struct{} { return c.done }

func (c *runContext) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

func (c *runContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextID
	c.nextID++
	c.children[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.children[id]
		delete(c.children, id)
		return ok
	}
}

func (c *runContext) live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.children)
}

func (c *runContext) cancel() {
	close(c.done)
	c.mu.Lock()
	fs := c.children
	c.children = nil
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// A probe's context is released when the probe ends: a daemon runs
// probes without end under one run context, and a child left registered
// with it is memory that never comes back.
func TestProbesReleaseTheirContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // refused: every probe ends at once

	s := New(&probe.Prober{}, store.New(), Options{MaxJitter: -1})
	s.Update([]Job{{
		Key: store.Key("127.0.0.1", "default"), Name: "127.0.0.1", Module: "default",
		Target:   probe.Target{Host: "127.0.0.1", Port: port},
		Settings: probe.Settings{Timeout: time.Second},
		Interval: 5 * time.Millisecond,
	}})
	run := &runContext{Context: context.Background(), done: make(chan struct{}), children: map[int]func(){}}
	ran := make(chan struct{})
	go func() { s.Run(run); close(ran) }()
	defer func() { run.cancel(); <-ran }()

	const probes = 40
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		done := st.ProbesFailure + st.ProbesSuccess
		if done >= probes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d probes in 20s", done)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// One job: at most its one probe in flight holds a child.
	if n := run.live(); n > 1 {
		t.Fatalf("after %d probes of one job, %d probe contexts still registered with the run context, want at most 1", probes, n)
	}
}
