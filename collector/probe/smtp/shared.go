package smtp

import (
	"crypto/sha256"
	"runtime"
	"strings"
	"sync"
	"weak"
)

// sharedExtensions hands out one *Extensions per distinct EHLO reply. The
// store keeps the last result of every address, two EHLO replies each, and
// a gateway that serves many domains (or one MX farm behind many names)
// answers every probe with the same reply: parsing it once and sharing the
// result keeps one copy instead of one per address (see
// BenchmarkResultFootprint). Entries are held weakly and removed once no
// result refers to them, so a reply that changes (a timestamp in the
// greeting) does not pile up.
//
// The shared value is read-only, as is everything in a Result.
var sharedExtensions = extensionsCache{m: make(map[replyDigest]weak.Pointer[Extensions])}

// replyDigest identifies a reply by the SHA-256 of its lines: a fixed 32
// bytes per entry instead of a copy of the reply as the key.
type replyDigest [sha256.Size]byte

type extensionsCache struct {
	mu sync.Mutex
	m  map[replyDigest]weak.Pointer[Extensions]
}

// parse returns the Extensions of r, shared with earlier identical replies.
func (c *extensionsCache) parse(r Reply) *Extensions {
	key := replyDigest(sha256.Sum256([]byte(strings.Join(r.Lines, "\n"))))
	c.mu.Lock()
	if wp, ok := c.m[key]; ok {
		if ext := wp.Value(); ext != nil {
			c.mu.Unlock()
			return ext
		}
	}
	c.mu.Unlock()

	ext := ParseEHLO(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if wp, ok := c.m[key]; ok { // another probe got there first
		if old := wp.Value(); old != nil {
			return old
		}
	}
	c.m[key] = weak.Make(ext)
	runtime.AddCleanup(ext, c.forget, key)
	return ext
}

// forget drops key once its Extensions were collected, unless a new value
// took its place in the meantime.
func (c *extensionsCache) forget(key replyDigest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wp, ok := c.m[key]; ok && wp.Value() == nil {
		delete(c.m, key)
	}
}

// len is the number of entries, collected or not (for tests).
func (c *extensionsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
