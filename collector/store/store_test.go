package store

import (
	"fmt"
	"sync"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
)

func entry(target, module string) *Entry {
	return &Entry{Key: Key(target, module), Target: target, Module: module, Report: &probe.Report{}}
}

func TestPutGetRetainEntries(t *testing.T) {
	s := New()
	for _, e := range []*Entry{entry("b.test", "default"), entry("a.test", "default"), entry("c.test", "strict")} {
		s.Put(e)
	}
	newer := entry("b.test", "default")
	s.Put(newer)
	if got := s.Get(Key("b.test", "default")); got != newer {
		t.Fatalf("Get after a second Put returned %p, want the newer entry %p", got, newer)
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	var keys []string
	for _, e := range s.Entries() {
		keys = append(keys, e.Target)
	}
	if fmt.Sprint(keys) != "[a.test b.test c.test]" {
		t.Fatalf("Entries in order %v, want [a.test b.test c.test]", keys)
	}
	s.Retain(func(key string) bool { return key != Key("a.test", "default") })
	if s.Get(Key("a.test", "default")) != nil || s.Len() != 2 {
		t.Fatalf("Retain left a.test or dropped others: len %d", s.Len())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				s.Put(entry(fmt.Sprintf("d%d-%d.test", i, j%10), "default"))
				_ = s.Entries()
				s.Retain(func(string) bool { return j%50 != 0 })
			}
		})
	}
	wg.Wait()
	if n := s.Len(); n > 80 {
		t.Fatalf("Len = %d, want at most 80 distinct keys", n)
	}
}
