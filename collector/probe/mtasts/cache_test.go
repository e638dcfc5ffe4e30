package mtasts

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestCache() (*Cache, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCache()
	c.now = clock.now
	return c, clock
}

// fetcherOf returns a fetch function that serves the current body as a
// parsed State, and the count of its calls. An empty body is a failed fetch.
func fetcherOf(body *string) (func(context.Context) State, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context) State {
		calls.Add(1)
		if *body == "" {
			return State{Fetch: Fetch{Err: FetchConnect, Detail: "refused"}}
		}
		p, defects := ParsePolicy([]byte(*body))
		return State{Policy: &p, Defects: defects, Valid: !hasFatal(defects), Digest: sha256.Sum256([]byte(*body))}
	}, &calls
}

// req asks for domain's policy under id with no more than the domain as key.
func req(domain, id string, refresh time.Duration) Request {
	return Request{Key: Key{Domain: domain}, ID: id, Refresh: refresh}
}

const testingPolicy = "version: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400\n"

func TestCacheRefreshAndID(t *testing.T) {
	c, clock := newTestCache()
	body := validEnforce
	fetch, calls := fetcherOf(&body)
	ctx := t.Context()
	const refresh = time.Hour

	steps := []struct {
		name    string
		advance time.Duration
		id      string
		body    string
		calls   int32
		cached  bool
		changed bool
	}{
		{"first fetch", 0, "id1", validEnforce, 1, false, false},
		{"fresh hit", 30 * time.Minute, "id1", validEnforce, 1, true, false},
		{"still fresh just before refresh", 29*time.Minute + 59*time.Second, "id1", validEnforce, 1, true, false},
		{"refresh passed", time.Second, "id1", validEnforce, 2, false, false},
		{"id change fetches at once", time.Minute, "id2", validEnforce, 3, false, false},
		{"body changed under the same id", refresh, "id2", testingPolicy, 4, false, true},
		{"the change is cached with the state", time.Minute, "id2", testingPolicy, 4, true, true},
		{"the change stays while the id does", refresh, "id2", testingPolicy, 5, false, true},
		{"a new id clears it", 0, "id3", testingPolicy, 6, false, false},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		body = s.body
		st := c.Policy(ctx, req(testDomain, s.id, refresh), fetch)
		if got := calls.Load(); got != s.calls {
			t.Fatalf("%s: %d fetches, want %d", s.name, got, s.calls)
		}
		if st.Cached != s.cached || st.ID != s.id || st.Policy == nil || st.Digest != sha256.Sum256([]byte(s.body)) {
			t.Fatalf("%s: State = %+v, want Cached %v, ID %q and the body's policy", s.name, st, s.cached, s.id)
		}
		if got := slices.Contains(st.Defects, DefectChangedUnderID); got != s.changed {
			t.Fatalf("%s: Defects = %v, want changed_without_id_change: %v", s.name, st.Defects, s.changed)
		}
		if !st.Valid {
			t.Fatalf("%s: State invalid, want valid (the change is a warning)", s.name)
		}
	}
}

func TestCacheFailure(t *testing.T) {
	c, clock := newTestCache()
	body := validEnforce
	fetch, calls := fetcherOf(&body)
	ctx := t.Context()
	const refresh = time.Hour

	c.Policy(ctx, req(testDomain, "id1", refresh), fetch)
	clock.advance(refresh)
	body = ""
	st := c.Policy(ctx, req(testDomain, "id1", refresh), fetch)
	if st.Fetch.Err != FetchConnect || st.Valid || st.Policy != nil || st.Cached {
		t.Fatalf("State = %+v, want the new failure, not the valid policy cached before", st)
	}
	clock.advance(failureKeep - time.Second)
	if st := c.Policy(ctx, req(testDomain, "id1", refresh), fetch); !st.Cached || st.Fetch.Err != FetchConnect || calls.Load() != 2 {
		t.Fatalf("State = %+v after %d fetches, want the failure from the cache", st, calls.Load())
	}
	clock.advance(time.Second)
	body = testingPolicy
	st = c.Policy(ctx, req(testDomain, "id1", refresh), fetch)
	if calls.Load() != 3 || st.Cached || !st.Valid {
		t.Fatalf("State = %+v after %d fetches, want a failure kept only %v, then a fresh fetch", st, calls.Load(), failureKeep)
	}
	if !slices.Contains(st.Defects, DefectChangedUnderID) {
		t.Fatalf("Defects = %v, want the change under id1 told across the failed fetch", st.Defects)
	}
}

func TestCacheSharesConcurrentFetches(t *testing.T) {
	c, _ := newTestCache()
	const callers = 8
	var waiting sync.WaitGroup
	waiting.Add(callers - 1)
	c.onWait = waiting.Done
	started := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	fetch := func(context.Context) State {
		calls.Add(1)
		close(started)
		<-release
		p, defects := ParsePolicy([]byte(validEnforce))
		return State{Policy: &p, Defects: defects, Valid: true, Digest: sha256.Sum256([]byte(validEnforce))}
	}
	results := make([]State, callers)
	var done sync.WaitGroup
	done.Go(func() { results[0] = c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch) })
	<-started
	for i := 1; i < callers; i++ {
		done.Go(func() { results[i] = c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch) })
	}
	waiting.Wait() // every other caller waits for the one fetch
	close(release)
	done.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d fetches for %d concurrent callers, want one", n, callers)
	}
	cached := 0
	for i, st := range results {
		if !st.Valid || st.ID != "id1" || st.Digest != sha256.Sum256([]byte(validEnforce)) {
			t.Fatalf("caller %d: State = %+v, want the shared policy", i, st)
		}
		if st.Cached {
			cached++
		}
	}
	if cached != callers-1 {
		t.Fatalf("%d results marked Cached, want %d (all but the one that fetched)", cached, callers-1)
	}
}

func TestCacheWaiterDeadline(t *testing.T) {
	c, _ := newTestCache()
	started := make(chan struct{})
	release := make(chan struct{})
	fetch := func(context.Context) State {
		close(started)
		<-release
		return State{Fetch: Fetch{Err: FetchStatus}}
	}
	var done sync.WaitGroup
	done.Go(func() { c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch) })
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	c.onWait = cancel // the waiter's probe ends as it starts waiting
	st := c.Policy(ctx, req(testDomain, "id1", time.Hour), fetch)
	close(release)
	done.Wait()
	if st.Fetch.Err != FetchTimeout || st.ID != "id1" || st.Valid {
		t.Fatalf("State = %+v, want a timeout for the waiter whose context ended", st)
	}
}

func TestCacheWaitsThenFetchesForAnotherID(t *testing.T) {
	c, _ := newTestCache()
	started := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	fetch := func(context.Context) State {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		p, _ := ParsePolicy([]byte(validEnforce))
		return State{Policy: &p, Valid: true}
	}
	var done sync.WaitGroup
	done.Go(func() { c.Policy(t.Context(), req(testDomain, "old", time.Hour), fetch) })
	<-started
	c.onWait = func() { close(release) }
	st := c.Policy(t.Context(), req(testDomain, "new", time.Hour), fetch)
	done.Wait()
	if calls.Load() != 2 || st.ID != "new" || st.Cached {
		t.Fatalf("State = %+v after %d fetches, want its own fetch for the new id", st, calls.Load())
	}
}

func TestCachePanickingFetchReleasesWaiters(t *testing.T) {
	c, _ := newTestCache()
	started := make(chan struct{})
	release := make(chan struct{})
	var done sync.WaitGroup
	done.Go(func() {
		defer func() { _ = recover() }()
		c.Policy(t.Context(), req(testDomain, "id1", time.Hour), func(context.Context) State {
			close(started)
			<-release
			panic("fetch bug")
		})
	})
	<-started
	c.onWait = func() { close(release) }
	st := c.Policy(t.Context(), req(testDomain, "id1", time.Hour), func(context.Context) State { return State{} })
	done.Wait()
	if st.Fetch.Err != FetchTimeout || st.Valid {
		t.Fatalf("State = %+v, want the waiter released with a failure", st)
	}
}

func TestCacheEviction(t *testing.T) {
	c, clock := newTestCache()
	body := validEnforce
	fetch, _ := fetcherOf(&body)
	ctx := t.Context()
	const refresh = time.Hour
	c.Policy(ctx, req("a.test", "id1", refresh), fetch)
	c.Policy(ctx, req("b.test", "id1", refresh), fetch)
	clock.advance(2*refresh - time.Minute)
	c.Policy(ctx, req("b.test", "id1", refresh), fetch)
	clock.advance(2 * time.Minute) // a.test unused for 2h01m, b.test for 2m
	c.Policy(ctx, req("c.test", "id1", refresh), fetch)
	c.mu.Lock()
	defer c.mu.Unlock()
	var domains []string
	for k := range c.entries {
		domains = append(domains, k.Domain)
	}
	slices.Sort(domains)
	if !slices.Equal(domains, []string{"b.test", "c.test"}) {
		t.Fatalf("cached domains %v, want a.test dropped after twice its refresh unused", domains)
	}
}

func TestCacheDoesNotShareSlices(t *testing.T) {
	c, _ := newTestCache()
	fetch := func(context.Context) State {
		p, defects := ParsePolicy([]byte("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 60\n"))
		return State{Policy: &p, Defects: defects, Valid: true}
	}
	st := c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch)
	st.Defects[0] = DefectLineInvalid
	again := c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch)
	if !slices.Equal(again.Defects, []Defect{DefectMaxAgeShort}) {
		t.Fatalf("Defects = %v after a caller changed its copy, want [%s]", again.Defects, DefectMaxAgeShort)
	}
}

func TestCacheZeroValue(t *testing.T) {
	var c Cache
	body := validEnforce
	fetch, calls := fetcherOf(&body)
	c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch)
	if st := c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch); !st.Cached || calls.Load() != 1 {
		t.Fatalf("State = %+v after %d fetches, want a zero Cache to cache", st, calls.Load())
	}
}

// TestCacheCancelledCallerDoesNotPoison: the probe that starts a fetch
// ends (a /probe request cancelled, or a short scrape timeout) while the
// fetch goes on. The fetch is every caller's, not that probe's: it runs to
// its end, and the next caller is served its policy, not a timeout.
func TestCacheCancelledCallerDoesNotPoison(t *testing.T) {
	c, _ := newTestCache()
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	var calls atomic.Int32
	fetch := func(fctx context.Context) State {
		calls.Add(1)
		cancel() // the first caller's probe ends while its fetch runs
		select {
		case <-fctx.Done():
			return State{Fetch: Fetch{Err: FetchTimeout, Detail: "cancelled with the probe that started it"}}
		case <-release:
		}
		p, defects := ParsePolicy([]byte(validEnforce))
		return State{Policy: &p, Defects: defects, Valid: true, Digest: sha256.Sum256([]byte(validEnforce))}
	}
	first := c.Policy(ctx, req(testDomain, "id1", time.Hour), fetch)
	if first.Fetch.Err != FetchTimeout || first.Valid {
		t.Fatalf("first caller: State = %+v, want a timeout (its own deadline passed)", first)
	}
	close(release)
	again := c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch)
	if !again.Valid || again.Fetch.Err != "" || calls.Load() != 1 {
		t.Fatalf("next caller: State = %+v after %d fetches, want the policy of the one fetch, not the first caller's timeout", again, calls.Load())
	}
}

// TestCacheKeyedByVerification: callers that verify the policy host
// against other roots never share an entry; callers with the same roots,
// named by content or by pool, do.
func TestCacheKeyedByVerification(t *testing.T) {
	c, _ := newTestCache()
	body := validEnforce
	fetch, calls := fetcherOf(&body)
	pool, otherPool := x509.NewCertPool(), x509.NewCertPool()
	steps := []struct {
		name  string
		key   Key
		calls int32
	}{
		{"system roots", Key{Domain: testDomain}, 1},
		{"a module's CA file", Key{Domain: testDomain, CAs: "/etc/a.pem sha256:01"}, 2},
		{"another CA file", Key{Domain: testDomain, CAs: "/etc/b.pem sha256:02"}, 3},
		{"the first CA file again", Key{Domain: testDomain, CAs: "/etc/a.pem sha256:01"}, 3},
		{"the same file, changed", Key{Domain: testDomain, CAs: "/etc/a.pem sha256:03"}, 4},
		{"a pool", Key{Domain: testDomain, Pool: pool}, 5},
		{"another pool", Key{Domain: testDomain, Pool: otherPool}, 6},
		{"the first pool again", Key{Domain: testDomain, Pool: pool}, 6},
		{"system roots again", Key{Domain: testDomain}, 6},
	}
	before := int32(0)
	for _, s := range steps {
		st := c.Policy(t.Context(), Request{Key: s.key, ID: "id1", Refresh: time.Hour}, fetch)
		got := calls.Load()
		if got != s.calls || st.Cached != (got == before) || !st.Valid {
			t.Fatalf("%s: %d fetches, State cached %v valid %v; want %d fetches, cached %v, valid",
				s.name, got, st.Cached, st.Valid, s.calls, got == before)
		}
		before = got
	}
}

// TestCacheNarrowedFetch: a fetch that the caller's dial restriction
// narrowed says nothing of the policy host: it is not kept, and a caller
// without the restriction that waited for it fetches for itself, while a
// restricted one takes it.
func TestCacheNarrowedFetch(t *testing.T) {
	c, _ := newTestCache()
	narrowed := State{Fetch: Fetch{Err: FetchNoAddress, Detail: "no address this probe may dial"}, Narrowed: true}
	var calls atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	fetch := func(context.Context) State {
		if calls.Add(1) == 1 {
			close(started)
			<-release
			return narrowed
		}
		p, defects := ParsePolicy([]byte(validEnforce))
		return State{Policy: &p, Defects: defects, Valid: true}
	}
	restricted := req(testDomain, "id1", time.Hour)
	restricted.Restricted = true
	var waiting sync.WaitGroup
	waiting.Add(2)
	c.onWait = waiting.Done
	var first, other State
	var done sync.WaitGroup
	done.Go(func() { first = c.Policy(t.Context(), restricted, fetch) })
	<-started
	done.Go(func() { other = c.Policy(t.Context(), restricted, fetch) })
	var free State
	done.Go(func() { free = c.Policy(t.Context(), req(testDomain, "id1", time.Hour), fetch) })
	waiting.Wait()
	close(release)
	done.Wait()
	if first.Fetch.Err != FetchNoAddress || first.Cached || other.Fetch.Err != FetchNoAddress || !other.Cached {
		t.Fatalf("restricted callers: %+v and %+v, want the narrowed fetch for both", first, other)
	}
	if !free.Valid || free.Cached || calls.Load() != 2 {
		t.Fatalf("unrestricted caller: %+v after %d fetches, want a fetch of its own", free, calls.Load())
	}
	if st := c.Policy(t.Context(), restricted, fetch); !st.Valid || !st.Cached || calls.Load() != 2 {
		t.Fatalf("restricted caller after: %+v after %d fetches, want the unrestricted fetch from the cache (it dials nothing)", st, calls.Load())
	}
}

// TestCacheRefreshPerCaller: a policy is at most as old as each caller's
// own refresh allows: a caller with a short refresh fetches anew without
// shortening the refresh of the callers with a long one.
func TestCacheRefreshPerCaller(t *testing.T) {
	c, clock := newTestCache()
	body := validEnforce
	fetch, calls := fetcherOf(&body)
	long := req(testDomain, "id1", time.Hour)
	short := req(testDomain, "id1", 5*time.Minute)
	steps := []struct {
		name    string
		advance time.Duration
		req     Request
		calls   int32
		cached  bool
	}{
		{"long refresh fetches", 0, long, 1, false},
		{"short refresh served while fresh for it", time.Minute, short, 1, true},
		{"long refresh still served", 9 * time.Minute, long, 1, true},
		{"short refresh passed", 0, short, 2, false},
		{"long refresh gets the newer fetch", time.Minute, long, 2, true},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		st := c.Policy(t.Context(), s.req, fetch)
		if got := calls.Load(); got != s.calls || st.Cached != s.cached || !st.Valid {
			t.Fatalf("%s: %d fetches, State cached %v valid %v; want %d fetches, cached %v, valid",
				s.name, got, st.Cached, st.Valid, s.calls, s.cached)
		}
	}
}
