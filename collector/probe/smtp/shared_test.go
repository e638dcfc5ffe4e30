package smtp

import (
	"runtime"
	"testing"
	"time"
	"weak"
)

func TestSharedExtensions(t *testing.T) {
	var c extensionsCache
	c.m = make(map[replyDigest]weak.Pointer[Extensions])
	a := c.parse(ehloReply("mx.shared.test", "PIPELINING", "SIZE 100"))
	b := c.parse(ehloReply("mx.shared.test", "PIPELINING", "SIZE 100"))
	if a != b {
		t.Fatalf("identical replies parsed twice: %p and %p", a, b)
	}
	other := c.parse(ehloReply("mx.shared.test", "PIPELINING", "SIZE 200"))
	if other == a || other.Size != 200 || a.Size != 100 {
		t.Fatalf("different replies share a value: %+v, %+v", a, other)
	}
	if n := c.len(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(other)

	// Once no result refers to them, the entries go.
	a, other = nil, nil
	deadline := time.Now().Add(5 * time.Second)
	for c.len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries left after their values were dropped", c.len())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
