// Package scheduler decides when each target is probed. Probes run in the
// background on each target's interval, never at scrape time: RCPT probes
// knock on other people's mail servers, and scrape rate must not decide how
// often we knock.
//
// One goroutine keeps a min-heap of due times; due targets start in their own
// goroutine, at most MaxConcurrent at once. First probes are spread over the
// interval by a hash of the target (splay, stable across restarts), later
// ones keep that phase with a little jitter. A target whose previous probe
// still runs when it is due skips that turn. Probes of one address never
// overlap (see Gate).
package scheduler

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Job is one configured target with everything needed to probe it.
type Job struct {
	Key      string // store key: store.Key(Name, Module)
	Name     string // domain or host as configured
	Module   string
	Target   probe.Target
	Settings probe.Settings
	Interval time.Duration
	// Fingerprint changes when anything about the job changes; a reload
	// keeps the schedule and last result of a job whose fingerprint is the
	// same.
	Fingerprint string
}

// Options tune a Scheduler.
type Options struct {
	MaxConcurrent int          // target probes at once; default 64
	Logger        *slog.Logger // default: discard
	// MaxJitter bounds the random delay added to each planned run; the
	// default is 1% of the interval, at most one second.
	MaxJitter time.Duration
	now       func() time.Time // tests
}

// Scheduler runs jobs. Create it with New, start Run, feed Update.
type Scheduler struct {
	prober *probe.Prober
	store  *store.Store
	logger *slog.Logger
	opts   Options
	slots  chan struct{}
	gate   *AddressGate

	mu    sync.Mutex
	queue timeQueue
	jobs  map[string]*entry
	wake  chan struct{} // the earliest due time may have changed

	probes  sync.WaitGroup
	stats   counters
	lagHist *lagHistogram
}

// entry is a job's scheduling state. Guarded by Scheduler.mu.
type entry struct {
	job     Job
	next    time.Time // planned start of the next run, before jitter
	due     time.Time // next plus jitter: when it is taken off the heap
	index   int       // in the heap, -1 when not queued
	running bool
	removed bool
	cancel  context.CancelFunc // of the running probe
}

// New returns a scheduler that probes with p (whose Gate it sets) and puts
// reports into st.
func New(p *probe.Prober, st *store.Store, opts Options) *Scheduler {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	s := &Scheduler{
		store:   st,
		logger:  opts.Logger,
		opts:    opts,
		slots:   make(chan struct{}, opts.MaxConcurrent),
		gate:    NewAddressGate(),
		jobs:    map[string]*entry{},
		wake:    make(chan struct{}, 1),
		lagHist: newLagHistogram(),
	}
	pc := *p
	pc.Gate = s.gate
	s.prober = &pc
	return s
}

// OnDemandGate is the scheduler's address gate for other probers (/probe):
// they never talk to an address while the scheduler does, and they wait
// behind every scheduled dialogue of the address, so that however many of
// them queue, a scheduled probe keeps its turn.
func (s *Scheduler) OnDemandGate() probe.Gate { return s.gate.OnDemand() }

// Update replaces the set of jobs. Jobs whose key and fingerprint are
// unchanged keep their schedule and take the new settings from their next
// run on (a reload re-reads CA files and makes a new resolver even when the
// config text is the same: a rotated CA bundle must take effect); changed
// jobs restart with a new splay offset; removed jobs are cancelled and
// their results dropped.
func (s *Scheduler) Update(jobs []Job) {
	now := s.opts.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		keep[j.Key] = true
		if old, ok := s.jobs[j.Key]; ok {
			if old.job.Fingerprint == j.Fingerprint {
				old.job = j // a probe in flight has its own copy
				continue
			}
			s.removeLocked(old)
		}
		e := &entry{job: j, index: -1}
		e.next = now.Add(splay(j.Key, j.Interval))
		e.due = e.next
		s.jobs[j.Key] = e
		heap.Push(&s.queue, e)
	}
	for k, e := range s.jobs {
		if !keep[k] {
			s.removeLocked(e)
		}
	}
	s.store.Retain(func(key string) bool { return keep[key] })
	s.signal()
}

func (s *Scheduler) removeLocked(e *entry) {
	e.removed = true
	if e.cancel != nil {
		e.cancel()
	}
	if e.index >= 0 {
		heap.Remove(&s.queue, e.index)
	}
	delete(s.jobs, e.job.Key)
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run dispatches due jobs until ctx ends, then cancels the probes in flight
// and waits for them: when Run returns, no probe goroutine is left.
func (s *Scheduler) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer s.probes.Wait()
	for {
		wait := s.dispatchDue(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
	}
}

// dispatchDue starts every due job and returns how long to sleep until the
// next one is due.
func (s *Scheduler) dispatchDue(ctx context.Context) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.now()
	for s.queue.Len() > 0 {
		e := s.queue[0]
		if wait := e.due.Sub(now); wait > 0 {
			return wait
		}
		heap.Pop(&s.queue)
		// Lag counts from the jittered due time: jitter is on purpose,
		// lateness beyond it is not.
		planned := e.due
		s.advanceLocked(e, now)
		heap.Push(&s.queue, e)
		if e.running {
			s.logger.Warn("previous probe still running, skipping this turn", "target", e.job.Name, "module", e.job.Module)
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		e.running, e.cancel = true, cancel
		s.probes.Add(1)
		go s.probe(pctx, cancel, e, e.job, planned)
	}
	return time.Hour
}

// advanceLocked plans the run after now in the job's phase: missed turns
// are skipped rather than run back to back.
func (s *Scheduler) advanceLocked(e *entry, now time.Time) {
	iv := e.job.Interval
	e.next = e.next.Add(iv)
	if behind := now.Sub(e.next); behind >= 0 {
		e.next = e.next.Add((behind/iv + 1) * iv)
	}
	e.due = e.next.Add(s.jitter(iv))
}

func (s *Scheduler) jitter(interval time.Duration) time.Duration {
	maxJitter := s.opts.MaxJitter
	if maxJitter == 0 {
		maxJitter = min(interval/100, time.Second)
	}
	if maxJitter <= 0 {
		return 0
	}
	return rand.N(maxJitter)
}

// probe runs job, the entry's job as it was at dispatch: a reload may
// replace e.job meanwhile. It cancels ctx when done: until then ctx is
// one of the run context's children, and a daemon dispatches probes
// without end.
func (s *Scheduler) probe(ctx context.Context, cancel context.CancelFunc, e *entry, job Job, planned time.Time) {
	defer s.probes.Done()
	defer func() {
		cancel()
		s.mu.Lock()
		e.running, e.cancel = false, nil
		s.mu.Unlock()
	}()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-s.slots }()

	start := s.opts.now()
	s.lagHist.observe(start.Sub(planned).Seconds())
	s.stats.inFlight.Add(1)
	rep := s.prober.Probe(ctx, job.Target, job.Settings)
	s.stats.inFlight.Add(-1)

	s.mu.Lock()
	removed := e.removed
	s.mu.Unlock()
	if removed || ctx.Err() != nil {
		return // cancelled by a reload or shutdown: the result is not a finding
	}
	if rep.Success() {
		s.stats.success.Add(1)
	} else {
		s.stats.failure.Add(1)
	}
	s.store.Put(&store.Entry{
		Key:      job.Key,
		Target:   job.Name,
		Module:   job.Module,
		Interval: job.Interval,
		Report:   rep,
		Taken:    s.opts.now(),
	})
}

// splay spreads first runs evenly over the interval, the same way on every
// start, so a restart does not make every target knock at once.
func splay(key string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

// Stats is the scheduler's view of itself, for self-monitoring.
type Stats struct {
	ProbesSuccess uint64
	ProbesFailure uint64
	InFlight      int64
	Jobs          int
	Lag           LagSnapshot
}

type counters struct {
	success, failure atomic.Uint64
	inFlight         atomic.Int64
}

// Stats returns the current statistics.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	jobs := len(s.jobs)
	s.mu.Unlock()
	return Stats{
		ProbesSuccess: s.stats.success.Load(),
		ProbesFailure: s.stats.failure.Load(),
		InFlight:      s.stats.inFlight.Load(),
		Jobs:          jobs,
		Lag:           s.lagHist.snapshot(),
	}
}

// timeQueue is a min-heap of entries by due time.
type timeQueue []*entry

func (q timeQueue) Len() int           { return len(q) }
func (q timeQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q timeQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *timeQueue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *timeQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}
