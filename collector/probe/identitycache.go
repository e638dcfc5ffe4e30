package probe

// The reverse DNS of an address and the comparison of its names are the
// same for every target whose MX hosts share it: hosted MX farms answer for
// thousands of domains (the scale benchmark's 10,000 endpoints share 20
// addresses). Looking them up and wording them anew on every probe cost a
// DNS round per address per target and kept one copy per endpoint in the
// daemon's last reports. One immutable value per address, shared by every
// report that refers to it, costs one lookup per address per reverseTTL.

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

const (
	// reverseTTL is how long an address's reverse DNS is reused by the
	// probes that follow the one that looked it up. A minute is the
	// default probe interval: a fixed PTR record shows at the next probe
	// or the one after, as with no cache at a shorter interval.
	reverseTTL = time.Minute
	// identitySweepEvery spaces the sweeps for old entries, so that a call
	// costs O(1) amortised.
	identitySweepEvery = time.Minute
)

// identity is the cache of every Prober in the process: the daemon's
// scheduler and its /probe handler look up the same addresses through the
// same resolver. Entries are keyed by resolver, so a reload that names
// other DNS servers (a new resolver) never sees the old one's answers.
var identity identityCache

// identityCache keeps reverse DNS per address and name comparisons per set
// of names. What it hands out is shared and must never be modified. One
// lock guards both maps: what it guards takes microseconds, the lookups
// run outside it.
type identityCache struct {
	mu        sync.Mutex
	reverse   map[reverseKey]*reverseEntry
	names     map[namesKey]*namesEntry
	lastSweep time.Time
	now       func() time.Time // nil: time.Now; tests set a clock
}

type reverseKey struct {
	resolver *dnsmx.Resolver
	addr     netip.Addr
}

// reverseEntry is one address's lookup, in flight until done is closed.
type reverseEntry struct {
	done chan struct{}
	// cached is the lookup as every probe but the one that made it
	// reports it: Cached set, the same answers. nil when that probe's
	// deadline cut the lookup short.
	cached *rdns.Check
	at     time.Time // when the lookup ended
}

// namesKey is what rdns.CompareNames compares; the PTR names joined by a
// byte no host name holds.
type namesKey struct {
	mx, ptr, banner, ehlo string
}

type namesEntry struct {
	names *rdns.Names
	used  time.Time
}

func (c *identityCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// reverseDNS returns addr's reverse DNS through resolver: the lookup of
// another probe less than reverseTTL ago (Cached set), the one another
// probe has in flight, or a lookup of its own within ctx. A lookup that
// ctx ended is this probe's alone: it is not kept, and probes waiting for
// it look up for themselves.
func (c *identityCache) reverseDNS(ctx context.Context, resolver *dnsmx.Resolver, addr netip.Addr) *rdns.Check {
	key := reverseKey{resolver, addr}
	c.mu.Lock()
	now := c.clock()
	c.sweep(now)
	if e, ok := c.reverse[key]; ok {
		select {
		case <-e.done:
			if e.cached != nil && now.Sub(e.at) < reverseTTL {
				c.mu.Unlock()
				return e.cached
			}
		default:
			c.mu.Unlock()
			select {
			case <-e.done:
				if e.cached != nil {
					return e.cached
				}
			case <-ctx.Done():
			}
			return c.lookUp(ctx, resolver, addr, nil)
		}
	}
	e := &reverseEntry{done: make(chan struct{})}
	if c.reverse == nil {
		c.reverse = map[reverseKey]*reverseEntry{}
	}
	c.reverse[key] = e
	c.mu.Unlock()
	return c.lookUp(ctx, resolver, addr, e)
}

// cachedReverse returns addr's reverse DNS when another probe looked it
// up less than reverseTTL ago, else nil: a probe that finds every address
// here starts no lookup at all.
func (c *identityCache) cachedReverse(resolver *dnsmx.Resolver, addr netip.Addr) *rdns.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.reverse[reverseKey{resolver, addr}]
	if !ok || e.cached == nil || c.clock().Sub(e.at) >= reverseTTL {
		return nil
	}
	return e.cached
}

// lookUp looks addr up and, when e is not nil, completes e with the
// result, or drops it when ctx ended before the lookup did.
func (c *identityCache) lookUp(ctx context.Context, resolver *dnsmx.Resolver, addr netip.Addr, e *reverseEntry) *rdns.Check {
	fresh := rdns.Lookup(ctx, resolver, addr)
	fresh.Checked = c.clock()
	if e == nil {
		return &fresh
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ended(ctx) {
		cached := fresh
		cached.Cached = true
		e.cached, e.at = &cached, fresh.Checked
	} else if c.reverse[reverseKey{resolver, addr}] == e {
		delete(c.reverse, reverseKey{resolver, addr})
	}
	close(e.done)
	return &fresh
}

// ended reports whether ctx is over: cancelled, or past its deadline
// (a query timed out by the deadline can return before ctx says so).
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// compareNames returns the comparison of the names, shared with every
// probe that compared the same names lately (it depends on them alone).
func (c *identityCache) compareNames(mx string, ptr []string, banner, ehlo string) *rdns.Names {
	key := namesKey{mx, strings.Join(ptr, "\x00"), banner, ehlo}
	c.mu.Lock()
	now := c.clock()
	c.sweep(now)
	if e, ok := c.names[key]; ok {
		e.used = now
		c.mu.Unlock()
		return e.names
	}
	c.mu.Unlock()
	n := rdns.CompareNames(mx, ptr, banner, ehlo)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.names[key]; ok { // another probe compared them meanwhile
		return e.names
	}
	if c.names == nil {
		c.names = map[namesKey]*namesEntry{}
	}
	c.names[key] = &namesEntry{names: &n, used: now}
	return &n
}

// sweep drops, at most once per identitySweepEvery, the lookups older than
// reverseTTL and the comparisons unused for as long. c.mu is held.
func (c *identityCache) sweep(now time.Time) {
	if now.Sub(c.lastSweep) < identitySweepEvery {
		return
	}
	c.lastSweep = now
	for k, e := range c.reverse {
		select {
		case <-e.done:
			if now.Sub(e.at) >= reverseTTL {
				delete(c.reverse, k)
			}
		default: // in flight: its looker-up completes it
		}
	}
	for k, e := range c.names {
		if now.Sub(e.used) >= reverseTTL {
			delete(c.names, k)
		}
	}
}
