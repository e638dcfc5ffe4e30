package dnsbl

// The helpers of the tests: a resolver, a clock the test moves, a Result in
// one line. The fake DNS server is collector/testenv/fakedns, used ONLY for
// what the real test server (nsd, zone "test.", see integration_test.go)
// cannot be made to do: count the queries it gets (caching and sharing are
// judged by them), hold an answer until the test lets it go, change its
// answers mid-test (a zone that turns unhealthy), answer SERVFAIL, or never
// answer. Everything a correct blocklist zone shows is tested against nsd.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

func newTestResolver(t testing.TB, timeout time.Duration, servers ...string) *dnsmx.Resolver {
	t.Helper()
	return fakedns.Resolver(t, dnsmx.NewResolver, timeout, 1, servers...)
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestChecker returns a Checker on clock.
func newTestChecker(ttl, healthInterval time.Duration, clock *fakeClock) *Checker {
	c := NewChecker(ttl, healthInterval)
	c.now = clock.Now
	return c
}

// summary is a Result in one line, for comparisons.
func summary(r Result) string {
	s := fmt.Sprintf("%s %s %s", r.Zone, r.Query, r.Verdict)
	if r.Error != "" {
		s += " " + string(r.Error)
	}
	if len(r.Codes) > 0 {
		s += fmt.Sprintf(" %v", r.Codes)
	}
	if r.Reason != "" {
		s += fmt.Sprintf(" reason=%q", r.Reason)
	}
	if r.Cached {
		s += " cached"
	}
	return s
}
