package dnsbl

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// The defaults of the config's dnsbl.cache_ttl and dnsbl.health_interval,
// which NewChecker also takes for a value that is not positive.
const (
	DefaultCacheTTL       = 15 * time.Minute
	DefaultHealthInterval = time.Hour
)

// maxErrorTTL bounds how long an error of a list (a failed lookup, a
// timeout, a refused query, an invalid answer) is cached, and how soon a
// health check that got no answer is tried again: a list that recovers is
// seen within a minute, and one that is down is not asked at every probe.
const maxErrorTTL = time.Minute

// Checker looks subjects up in zones, caches the answers for TTL and keeps
// each zone's health, checked on first use and again every HealthInterval.
// One Checker lives as long as the daemon; zones come with each call, so a
// reload that changes them needs no new Checker. Safe for concurrent use.
//
// Answers are cached per query name, which holds the zone: a listing and a
// not-listed answer for the TTL, an error of the list for at most a minute
// (maxErrorTTL). Concurrent look-ups of one name share one query, and so do
// concurrent health checks of one zone. A shared look-up runs to its end
// even when the caller that started it gives up (each caller waits only as
// long as its own context allows), so that a probe's deadline never leaves
// a timeout in the cache for others. Expired answers are dropped as new
// ones come in, at most once per sweep interval, so that memory holds only
// the names asked within the TTL.
//
// A zone's health is that of the resolver it was checked through: a check
// through other servers (after a reload that changed dns.resolvers) is due
// at once. A zone found unhealthy loses its cached answers, and its results
// are error zone_unhealthy without a question until a check passes. A check
// that got no answer is tried again after at most a minute.
type Checker struct {
	ttl, errorTTL               time.Duration
	healthInterval, healthRetry time.Duration
	now                         func() time.Time // time.Now; tests move it
	// joined, when set (tests), is called when a caller joins a look-up
	// or health check already under way, with its key.
	joined func(key string)

	mu        sync.Mutex
	answers   map[string]cachedAnswer // by query name
	zones     map[Zone]*zoneState
	lookups   map[string]*flight[Result] // by query name
	checks    map[Zone]*flight[Health]
	nextSweep time.Time
}

// cachedAnswer is one query name's answer, without a subject.
type cachedAnswer struct {
	res     Result
	expires time.Time
}

// zoneState is a zone's last health check.
type zoneState struct {
	health  Health
	servers string    // the resolver's servers it was checked through
	due     time.Time // when the next check is due
	used    time.Time // when its health was last asked for
}

// flight is a look-up or health check that concurrent callers share: the
// first starts it, all wait for done, then read val.
type flight[V any] struct {
	done chan struct{}
	val  V
}

// NewChecker returns a Checker that caches answers for ttl and checks a
// zone's health every healthInterval; a value that is not positive takes
// its default (DefaultCacheTTL, DefaultHealthInterval).
func NewChecker(ttl, healthInterval time.Duration) *Checker {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if healthInterval <= 0 {
		healthInterval = DefaultHealthInterval
	}
	return &Checker{
		ttl:            ttl,
		errorTTL:       min(ttl, maxErrorTTL),
		healthInterval: healthInterval,
		healthRetry:    min(healthInterval, maxErrorTTL),
		now:            time.Now,
		answers:        map[string]cachedAnswer{},
		zones:          map[Zone]*zoneState{},
		lookups:        map[string]*flight[Result]{},
		checks:         map[Zone]*flight[Health]{},
	}
}

// SetIntervals changes the cache TTL and the health interval, for a reload
// that changes them; a value that is not positive takes its default.
// Answers and health checks made before keep the expiry they were given:
// the new values apply from the next answer and the next check, so a
// reload asks no list again.
func (c *Checker) SetIntervals(ttl, healthInterval time.Duration) {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if healthInterval <= 0 {
		healthInterval = DefaultHealthInterval
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl, c.errorTTL = ttl, min(ttl, maxErrorTTL)
	c.healthInterval, c.healthRetry = healthInterval, min(healthInterval, maxErrorTTL)
}

// HealthInterval is how often each zone's health is checked.
func (c *Checker) HealthInterval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.healthInterval
}

// CheckAddr looks addr up in every zone of kind address, side by side,
// within ctx. The results are in the order of zones; nil when no zone is
// of kind address or addr is not valid.
func (c *Checker) CheckAddr(ctx context.Context, r *dnsmx.Resolver, zones []Zone, addr netip.Addr) []Result {
	if !addr.IsValid() {
		return nil
	}
	subject := addr.WithZone("").String()
	return c.checkAll(ctx, r, zones, KindAddress, subject, func(zone string) string { return addrQueryName(zone, addr) })
}

// CheckName looks a host name up in every zone of kind domain, side by
// side, within ctx. The results are in the order of zones; nil when no zone
// is of kind domain, and for a name that is an IP address (an MX record
// that spells one): a domain list lists names, and some answer a query for
// an address with a code that means "no such queries" rather than a
// listing.
func (c *Checker) CheckName(ctx context.Context, r *dnsmx.Resolver, zones []Zone, name string) []Result {
	if _, err := netip.ParseAddr(name); err == nil {
		return nil
	}
	return c.checkAll(ctx, r, zones, KindDomain, name, func(zone string) string { return nameQueryName(zone, name) })
}

// checkAll checks subject in the zones of kind, side by side.
func (c *Checker) checkAll(ctx context.Context, r *dnsmx.Resolver, zones []Zone, kind Kind, subject string, query func(zone string) string) []Result {
	if r == nil {
		return nil
	}
	var out []Result
	var wg sync.WaitGroup
	for _, z := range zones {
		if z.Kind != kind {
			continue
		}
		out = append(out, Result{Zone: z.Name, Subject: subject, Query: query(z.Name)})
	}
	for i := range out {
		z := Zone{Name: out[i].Zone, Kind: kind}
		wg.Go(func() { out[i] = c.check(ctx, r, z, out[i]) })
	}
	wg.Wait()
	return out
}

// check fills res, which has its zone, subject and query name: the zone's
// health first, then the answer for the query name, cached or asked.
func (c *Checker) check(ctx context.Context, r *dnsmx.Resolver, z Zone, res Result) Result {
	if res.Query == "" {
		res.Verdict, res.Error, res.Checked = VerdictError, ErrorLookupFailed, c.now()
		res.Detail = "nothing asked: " + res.Subject + " followed by " + z.Name + " is no valid DNS name " +
			"(a label over 63 octets, over 253 in all, or a character other than a letter, digit or hyphen)"
		return res
	}
	h, cached, ok := c.health(ctx, r, z, false)
	if !ok {
		return gaveUp(res, c.now(), "before the health check of "+z.Name+" was over")
	}
	if !h.Healthy {
		return c.unhealthy(res, h, cached)
	}
	a, cached, ok := c.answer(ctx, r, z, res.Query)
	if !ok {
		return gaveUp(res, c.now(), "before an answer for "+res.Query)
	}
	if h, known := c.lastHealth(z); known && !h.Healthy {
		// The zone turned unhealthy while its answer was on the way.
		return c.unhealthy(res, h, false)
	}
	// The answer is the query name's; the zone's spelling and the
	// subject are this call's, and the codes its own copy.
	a.Zone, a.Subject, a.Cached = res.Zone, res.Subject, cached
	a.Codes = slices.Clone(a.Codes)
	return a
}

// unhealthy is res for a zone of health h: an error, without a question.
func (c *Checker) unhealthy(res Result, h Health, cached bool) Result {
	res.Verdict, res.Error, res.Checked, res.Cached = VerdictError, ErrorZoneUnhealthy, h.Checked, cached
	res.Codes, res.Reason = nil, ""
	res.Detail = "not asked: " + h.Detail
	return res
}

// lastHealth returns z's last health check, if there is one.
func (c *Checker) lastHealth(z Zone) (Health, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.zones[z]; st != nil {
		return st.health, true
	}
	return Health{}, false
}

// gaveUp is res when the caller's context ended before its answer came:
// a timeout (or a cancellation, in words), never cached.
func gaveUp(res Result, now time.Time, what string) Result {
	res.Verdict, res.Error, res.Checked = VerdictError, ErrorTimeout, now
	res.Detail = "deadline reached " + what
	return res
}

// answer returns the answer for query: from the cache (cached true), from
// a look-up under way, or from a new one. ok is false when ctx ended first.
func (c *Checker) answer(ctx context.Context, r *dnsmx.Resolver, z Zone, query string) (res Result, cached, ok bool) {
	c.mu.Lock()
	if e, hit := c.answers[query]; hit && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.res, true, true
	}
	f, joined := c.lookups[query]
	if !joined && ctx.Err() != nil {
		c.mu.Unlock() // nobody would wait for the answer
		return Result{}, false, false
	}
	if !joined {
		f = &flight[Result]{done: make(chan struct{})}
		c.lookups[query] = f
	}
	c.mu.Unlock()
	if joined {
		c.onJoin(query)
	} else {
		go c.runLookup(context.WithoutCancel(ctx), r, z, query, f)
	}
	select {
	case <-f.done:
		return f.val, false, true
	case <-ctx.Done():
		return Result{}, false, false
	}
}

// runLookup asks query, caches the answer and ends the flight.
func (c *Checker) runLookup(ctx context.Context, r *dnsmx.Resolver, z Zone, query string, f *flight[Result]) {
	checked := c.now()
	res := lookup(ctx, r, z.Name, query, true)
	res.Checked = checked
	f.val = res
	c.mu.Lock()
	defer func() {
		delete(c.lookups, query)
		c.mu.Unlock()
		close(f.done)
	}()
	// An answer that came while the zone turned unhealthy is not kept:
	// the check has just dropped the zone's answers as untrusted.
	if st := c.zones[z]; st == nil || !st.health.Healthy {
		return
	}
	ttl := c.ttl
	if res.Verdict == VerdictError {
		ttl = c.errorTTL
	}
	now := c.now()
	c.answers[query] = cachedAnswer{res: res, expires: checked.Add(ttl)}
	if !now.Before(c.nextSweep) {
		c.sweep(now)
	}
}

// sweep drops the expired answers; c.mu is held. It runs at most once per
// errorTTL, so its cost, one pass over the cache, is shared by all the
// answers stored in between.
func (c *Checker) sweep(now time.Time) {
	for q, e := range c.answers {
		if !now.Before(e.expires) {
			delete(c.answers, q)
		}
	}
	c.nextSweep = now.Add(c.errorTTL)
}

// health returns zone z's health: its last check while that stands
// (cached true), else a check under way or a new one. force starts a new
// check whatever the last one says. ok is false when ctx ended first.
func (c *Checker) health(ctx context.Context, r *dnsmx.Resolver, z Zone, force bool) (h Health, cached, ok bool) {
	servers := strings.Join(r.Servers(), " ")
	c.mu.Lock()
	now := c.now()
	st := c.zones[z]
	if st != nil {
		st.used = now
	}
	if !force && st != nil && st.servers == servers && now.Before(st.due) {
		c.mu.Unlock()
		return st.health, true, true
	}
	f, joined := c.checks[z]
	if !joined && ctx.Err() != nil {
		c.mu.Unlock()
		return Health{}, false, false
	}
	if !joined {
		f = &flight[Health]{done: make(chan struct{})}
		c.checks[z] = f
	}
	c.mu.Unlock()
	if joined {
		c.onJoin("health " + z.Name)
	} else {
		go c.runHealth(context.WithoutCancel(ctx), r, z, servers, f)
	}
	select {
	case <-f.done:
		return f.val, false, true
	case <-ctx.Done():
		return Health{}, false, false
	}
}

// runHealth checks z, keeps its health and ends the flight.
func (c *Checker) runHealth(ctx context.Context, r *dnsmx.Resolver, z Zone, servers string, f *flight[Health]) {
	checked := c.now()
	healthy, retry, detail := probeHealth(ctx, r, z)
	h := Health{Zone: z, Healthy: healthy, Checked: checked, Detail: detail}
	f.val = h
	c.mu.Lock()
	due := checked.Add(c.healthInterval)
	if retry {
		due = checked.Add(c.healthRetry)
	}
	now := c.now()
	c.zones[z] = &zoneState{health: h, servers: servers, due: due, used: now}
	// Zones nobody asked about for two intervals are no longer
	// configured (a reload removed them): forgotten, so that Zones
	// reports only the zones in use.
	for other, st := range c.zones {
		if now.Sub(st.used) > 2*c.healthInterval {
			delete(c.zones, other)
		}
	}
	if !healthy {
		for q, e := range c.answers {
			if e.res.Zone == z.Name {
				delete(c.answers, q)
			}
		}
	}
	delete(c.checks, z)
	c.mu.Unlock()
	close(f.done)
}

func (c *Checker) onJoin(key string) {
	if c.joined != nil {
		c.joined(key)
	}
}

// CheckZones runs the health checks of zones now, side by side (at start
// and from the daemon's periodic loop), and waits for them within ctx. A
// check already under way is joined rather than repeated.
func (c *Checker) CheckZones(ctx context.Context, r *dnsmx.Resolver, zones []Zone) {
	if r == nil {
		return
	}
	var wg sync.WaitGroup
	seen := map[Zone]bool{}
	for _, z := range zones {
		if seen[z] {
			continue
		}
		seen[z] = true
		wg.Go(func() { c.health(ctx, r, z, true) })
	}
	wg.Wait()
}

// Zones returns the health of every zone checked so far, by zone name (then
// kind), for the daemon's self metrics. A zone whose health nobody asked for
// (CheckAddr, CheckName, CheckZones) in two health intervals is forgotten
// at the next check of any zone: a reload removed it.
func (c *Checker) Zones() []Health {
	c.mu.Lock()
	out := make([]Health, 0, len(c.zones))
	for _, st := range c.zones {
		out = append(out, st.health)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Health) int {
		return cmp.Or(strings.Compare(a.Zone.Name, b.Zone.Name), strings.Compare(string(a.Zone.Kind), string(b.Zone.Kind)))
	})
	return out
}
