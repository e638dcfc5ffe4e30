package mtasts

import (
	"context"
	"crypto/x509"
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
// Entries are kept per Key, not per domain: modules that trust other roots
// or reach the policy host another way must each see their own fetch, or
// the module that fetched first would decide the other's verdict.
//
// One lock guards the map and the entries: what it guards takes
// microseconds, and the fetch itself runs outside it.
type Cache struct {
	mu        sync.Mutex
	entries   map[Key]*cacheEntry
	lastSweep time.Time
	now       func() time.Time // nil: time.Now; tests set a clock
	onWait    func()           // tests: called when a caller starts waiting for another's fetch
}

// Key names a cache entry: the domain and everything besides the TXT id
// that decides how its fetch turns out. Callers whose fetches could end
// differently must not share an entry.
type Key struct {
	Domain string
	// CAs names the pool the policy host's certificate is verified
	// against by its content (the daemon: the module's tls.ca_file and a
	// digest of it), so that modules and config loads with the same CA
	// file share an entry. Empty: Pool by identity, and with Pool nil the
	// system roots.
	CAs  string
	Pool *x509.CertPool
}

// Request is one caller's question to Policy.
type Request struct {
	Key Key
	ID  string // the TXT id seen by the caller
	// Refresh is how long this caller accepts a policy fetched before:
	// each caller's own (the module's mta_sts_refresh), so that one
	// module's longer refresh never keeps another's policy older than its
	// own says.
	Refresh time.Duration
	// Timeout bounds a fetch started for this caller. The fetch outlives
	// the caller if need be (other callers may wait for it), so it is not
	// cut by the caller's context; 0 means defaultFetchTimeout.
	Timeout time.Duration
	// Restricted says that the caller may not dial every address (its
	// fetch may come back Narrowed). It may take another restricted
	// caller's Narrowed fetch that it waited for; an unrestricted caller
	// fetches for itself instead.
	Restricted bool
}

// cacheEntry is one key's policy.
type cacheEntry struct {
	state   State     // the last fetch's outcome, ID set
	fetched time.Time // when state was fetched; zero until the first fetch ends
	expires time.Time // the sweep drops the entry after this: twice the longest refresh of its recent callers
	// The body last fetched under digestID, to tell a change without a
	// new id; changed stays true until the id changes.
	digestID   string
	digest     [32]byte
	haveDigest bool
	changed    bool
	flight     *flight // the fetch in progress, nil when none
}

// flight is a fetch in progress that callers for the same key wait for.
type flight struct {
	done chan struct{}
	id   string
	st   State // set before done is closed
	// panicked is what fetch panicked with, handed to the caller that
	// started it (as if it had called fetch itself); starterGone says
	// that caller stopped waiting, and the fetch's goroutine panics.
	panicked    any
	starterGone bool
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{} }

// Policy returns the State of req.Key's domain for the TXT id: the cached
// one (Cached set) when it was fetched for the same key and id less than
// req.Refresh ago, else the result of fetch, which runs once per key at a
// time (concurrent callers share it). A fetch under an unchanged id whose
// body digest differs from the one before adds DefectChangedUnderID, which
// stays until the id changes. Entries unused for longer than twice their
// callers' refresh are dropped.
//
// More precisely:
//   - A failed fetch (Fetch.Err set) is kept for at most a minute (or
//     the caller's refresh if shorter), not a whole refresh interval.
//   - A fetch that fails while a valid policy for the same id is cached
//     replaces it: the State says what happened now (a sender holding the
//     old policy would go on using it; the report tells the admin that a
//     new sender could not fetch it). The body digest is kept, so a later
//     fetch of a different body under the same id is still told.
//   - fetch runs in a goroutine of its own, under a context that keeps the
//     starting caller's values but not its cancellation, with req.Timeout
//     as its deadline: a probe that ends early (a cancelled /probe, a
//     short scrape timeout) leaves a fetch that ends as it would have for
//     any caller, and its outcome is what the cache keeps.
//   - Every caller, the one that started the fetch included, waits for it
//     at most until its own ctx ends, and then gets a timeout State that
//     is not cached. A caller that waited for another's fetch gets its
//     State with Cached set (its own fetch did not run).
//   - A Narrowed fetch is not kept: it is the State of the caller that
//     started it, and of the restricted callers that waited for it.
//   - fetch should leave State.ID empty; Policy sets it to the id.
//
// The returned State shares Policy and Fetch.TLS with the cache: callers
// read them and never modify them.
func (c *Cache) Policy(ctx context.Context, req Request, fetch func(context.Context) State) State {
	for {
		c.mu.Lock()
		now := c.clock()
		c.sweep(now)
		e := c.entries[req.Key]
		if e == nil {
			e = &cacheEntry{}
			c.entries[req.Key] = e
		}
		if exp := now.Add(2 * req.Refresh); exp.After(e.expires) {
			e.expires = exp
		}
		if !e.fetched.IsZero() && e.state.ID == req.ID && now.Sub(e.fetched) < e.keep(req.Refresh) {
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
				if fl.id != req.ID {
					continue // fetched for another id: look again
				}
				if fl.st.Narrowed && !req.Restricted {
					continue // another's restriction decided it: fetch for this caller
				}
				st := fl.st.clone()
				st.Cached = true
				return st
			case <-ctx.Done():
				return waitEnded(req.Key.Domain, req.ID)
			}
		}
		fl := &flight{done: make(chan struct{}), id: req.ID}
		e.flight = fl
		c.mu.Unlock()
		go c.run(ctx, req, e, fl, fetch)
		return c.await(ctx, req, fl)
	}
}

// await is the wait of the caller that started fl.
func (c *Cache) await(ctx context.Context, req Request, fl *flight) State {
	select {
	case <-fl.done:
	case <-ctx.Done():
		c.mu.Lock()
		select {
		case <-fl.done: // ended meanwhile: the result is there after all
		default:
			fl.starterGone = true
			c.mu.Unlock()
			st := waitEnded(req.Key.Domain, req.ID)
			st.Fetch.Detail = "the probe's deadline passed while the policy was being fetched"
			return st
		}
		c.mu.Unlock()
	}
	if fl.panicked != nil {
		panic(fl.panicked)
	}
	return fl.st.clone()
}

// run makes the fetch of fl and records it in e. The flight ends even when
// fetch panics, so that no caller waits forever.
func (c *Cache) run(ctx context.Context, req Request, e *cacheEntry, fl *flight, fetch func(context.Context) State) {
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultFetchTimeout
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	finished := false
	defer func() {
		if finished {
			return
		}
		v := recover()
		c.mu.Lock()
		e.flight = nil
		fl.st = waitEnded(req.Key.Domain, fl.id)
		fl.st.Fetch.Detail = "the policy fetch for another probe ended without a result"
		fl.panicked = v
		gone := fl.starterGone
		close(fl.done)
		c.mu.Unlock()
		if gone {
			panic(v) // nobody is left to hand it to
		}
	}()
	st := fetch(fctx)
	c.mu.Lock()
	st.ID, st.Cached = fl.id, false
	if !st.Narrowed {
		st = e.record(st, c.clock())
	}
	fl.st = st
	e.flight = nil
	close(fl.done)
	finished = true
	c.mu.Unlock()
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

// keep is how long the entry's state is served to a caller whose refresh
// is refresh.
func (e *cacheEntry) keep(refresh time.Duration) time.Duration {
	if e.state.Fetch.Err != "" && refresh > failureKeep {
		return failureKeep
	}
	return refresh
}

// sweep drops entries unused for longer than twice their callers'
// refresh, at most once per sweepEvery. c.mu is held.
func (c *Cache) sweep(now time.Time) {
	if c.entries == nil {
		c.entries = map[Key]*cacheEntry{}
	}
	if now.Sub(c.lastSweep) < sweepEvery {
		return
	}
	c.lastSweep = now
	for key, e := range c.entries {
		if e.flight == nil && now.After(e.expires) {
			delete(c.entries, key)
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
