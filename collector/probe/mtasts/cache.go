package mtasts

import (
	"context"
	"slices"
	"sync"
	"time"
)

const (
	// failureKeep bounds how long a failed fetch is served from the
	// cache: long enough that a dead policy host is not asked by every
	// probe, short enough that a repaired one shows within a probe or two.
	failureKeep = time.Minute
	// sweepEvery spaces the sweeps for entries unused for long, so that a
	// call costs O(1) amortised.
	sweepEvery = time.Minute
)

// Cache keeps each domain's policy between probes, so that thousands of
// probes fetch it once per refresh interval (design.md 3b), and tells a
// policy that changed under an unchanged TXT id. Safe for concurrent use;
// the zero value is ready to use.
//
// One lock guards the map and the entries: what it guards takes
// microseconds, and the fetch itself runs outside it.
type Cache struct {
	mu        sync.Mutex
	entries   map[string]*cacheEntry
	lastSweep time.Time
	now       func() time.Time // nil: time.Now; tests set a clock
	onWait    func()           // tests: called when a caller starts waiting for another's fetch
}

// cacheEntry is one domain's policy.
type cacheEntry struct {
	state   State     // the last fetch's outcome, ID set
	fetched time.Time // when state was fetched; zero until the first fetch ends
	used    time.Time // the last call for this domain
	refresh time.Duration
	// The body last fetched under digestID, to tell a change without a
	// new id; changed stays true until the id changes.
	digestID   string
	digest     [32]byte
	haveDigest bool
	changed    bool
	flight     *flight // the fetch in progress, nil when none
}

// flight is a fetch in progress that callers for the same domain wait for.
type flight struct {
	done chan struct{}
	id   string
	st   State // set before done is closed
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{} }

// Policy returns domain's State for the TXT id: the cached one (Cached set)
// when it was fetched for the same id less than refresh ago, else the
// result of fetch, which runs once per domain at a time (concurrent callers
// share it). A fetch under an unchanged id whose body digest differs from the
// one before adds DefectChangedUnderID, which stays until the id changes.
// Entries unused for longer than twice their refresh are dropped.
//
// More precisely:
//   - A failed fetch (Fetch.Err set) is kept for at most a minute (or
//     refresh if shorter), not a whole refresh interval.
//   - A fetch that fails while a valid policy for the same id is cached
//     replaces it: the State says what happened now (a sender holding the
//     old policy would go on using it; the report tells the admin that a
//     new sender could not fetch it). The body digest is kept, so a later
//     fetch of a different body under the same id is still told.
//   - A caller that arrives while another fetches for the same domain and
//     id waits for that fetch and gets its State with Cached set (its own
//     fetch did not run); if its ctx ends first it gets a timeout State.
//     The fetch runs with the first caller's ctx.
//   - fetch should leave State.ID empty; Policy sets it to id.
//
// The returned State shares Policy and Fetch.TLS with the cache: callers
// read them and never modify them.
func (c *Cache) Policy(ctx context.Context, domain, id string, refresh time.Duration, fetch func(context.Context) State) State {
	for {
		c.mu.Lock()
		now := c.clock()
		c.sweep(now)
		e := c.entries[domain]
		if e == nil {
			e = &cacheEntry{}
			c.entries[domain] = e
		}
		e.used, e.refresh = now, refresh
		if !e.fetched.IsZero() && e.state.ID == id && now.Sub(e.fetched) < e.keep() {
			st := e.state.clone()
			c.mu.Unlock()
			st.Cached = true
			return st
		}
		if fl := e.flight; fl != nil {
			onWait := c.onWait
			c.mu.Unlock()
			if onWait != nil {
				onWait()
			}
			select {
			case <-fl.done:
				if fl.id != id {
					continue // fetched for another id: look again
				}
				st := fl.st.clone()
				st.Cached = true
				return st
			case <-ctx.Done():
				return waitEnded(domain, id)
			}
		}
		fl := &flight{done: make(chan struct{}), id: id}
		e.flight = fl
		c.mu.Unlock()
		return c.run(ctx, domain, e, fl, fetch)
	}
}

// run makes the fetch of fl and records it in e. The flight ends even when
// fetch panics, so that no waiter waits forever.
func (c *Cache) run(ctx context.Context, domain string, e *cacheEntry, fl *flight, fetch func(context.Context) State) State {
	finished := false
	defer func() {
		if finished {
			return
		}
		c.mu.Lock()
		e.flight = nil
		fl.st = waitEnded(domain, fl.id)
		fl.st.Fetch.Detail = "the policy fetch for another probe ended without a result"
		close(fl.done)
		c.mu.Unlock()
	}()
	st := fetch(ctx)
	c.mu.Lock()
	st.ID, st.Cached = fl.id, false
	st = e.record(st, c.clock())
	fl.st = st.clone()
	e.flight = nil
	close(fl.done)
	finished = true
	c.mu.Unlock()
	return st
}

// record keeps st as the entry's state, after the change check.
func (e *cacheEntry) record(st State, now time.Time) State {
	if e.digestID != st.ID {
		e.digestID, e.haveDigest, e.changed = st.ID, false, false
	}
	if st.Policy != nil {
		if e.haveDigest && e.digest != st.Digest {
			e.changed = true
		}
		e.digest, e.haveDigest = st.Digest, true
		if e.changed && !slices.Contains(st.Defects, DefectChangedUnderID) {
			st.Defects = append(slices.Clone(st.Defects), DefectChangedUnderID)
		}
	}
	e.state, e.fetched = st.clone(), now
	return st
}

// keep is how long the entry's state is served from the cache.
func (e *cacheEntry) keep() time.Duration {
	if e.state.Fetch.Err != "" && e.refresh > failureKeep {
		return failureKeep
	}
	return e.refresh
}

// sweep drops entries unused for longer than twice their refresh, at most
// once per sweepEvery. c.mu is held.
func (c *Cache) sweep(now time.Time) {
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
	if now.Sub(c.lastSweep) < sweepEvery {
		return
	}
	c.lastSweep = now
	for domain, e := range c.entries {
		if e.flight == nil && now.Sub(e.used) > 2*e.refresh {
			delete(c.entries, domain)
		}
	}
}

func (c *Cache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// clone copies the State's own slice, so that no caller's append reaches
// the cache.
func (s State) clone() State {
	s.Defects = slices.Clone(s.Defects)
	return s
}

// waitEnded is the State of a caller that stopped waiting for another's
// fetch (its context ended), or of the waiters of a fetch that panicked.
func waitEnded(domain, id string) State {
	st := State{ID: id}
	st.Fetch.URL = "https://mta-sts." + domain + policyPath
	st.Fetch.Err = FetchTimeout
	st.Fetch.Detail = "the probe's deadline passed while the policy was being fetched for another probe"
	return st
}
