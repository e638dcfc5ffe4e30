// Package store keeps the latest probe report of every configured target:
// the one place the scheduler writes and the collector, /probe and the
// status page read. Reports are immutable once stored, so readers share them
// without copying or locking.
package store

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
)

// Entry is the latest result of one target.
type Entry struct {
	Key      string        // unique per configured target: see Key
	Target   string        // domain or host as configured: the `domain` label
	Module   string        // module name
	Report   *probe.Report // never modified after Put; it records what the module asked
	Taken    time.Time     // when the probe finished
	Interval time.Duration // how often the target is probed; 0 for a one-off probe
}

// Key identifies a configured target: its name and module.
func Key(target, module string) string { return target + "\x00" + module }

// Store is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	entries map[string]*Entry
}

// New returns an empty store.
func New() *Store { return &Store{entries: map[string]*Entry{}} }

// Put replaces the entry of e.Key.
func (s *Store) Put(e *Entry) {
	s.mu.Lock()
	s.entries[e.Key] = e
	s.mu.Unlock()
}

// Get returns the entry of key, or nil.
func (s *Store) Get(key string) *Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries[key]
}

// Retain drops every entry whose key keep does not hold: a target removed
// from the config disappears from /metrics at once.
func (s *Store) Retain(keep func(key string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.entries {
		if !keep(k) {
			delete(s.entries, k)
		}
	}
}

// Entries returns every entry, sorted by key, so that exposition order is
// stable from scrape to scrape.
func (s *Store) Entries() []*Entry {
	s.mu.RLock()
	out := make([]*Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Len is the number of entries.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.entries)
}
