package scheduler

import (
	"context"
	"sync"
)

// AddressGate lets one dialogue at a time talk to an address, whatever
// targets lead to it: many domains often share one gateway, and a gateway
// should see us as one polite client, not a burst.
type AddressGate struct {
	mu    sync.Mutex
	locks map[string]*addrLock
}

type addrLock struct {
	ch    chan struct{} // holds one token while the address is in use
	users int           // holders and waiters; the lock is dropped at zero
}

// NewAddressGate returns an empty gate.
func NewAddressGate() *AddressGate { return &AddressGate{locks: map[string]*addrLock{}} }

// Acquire waits until addr is free or ctx ends.
func (g *AddressGate) Acquire(ctx context.Context, addr string) (func(), error) {
	g.mu.Lock()
	l, ok := g.locks[addr]
	if !ok {
		l = &addrLock{ch: make(chan struct{}, 1)}
		g.locks[addr] = l
	}
	l.users++
	g.mu.Unlock()

	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			g.done(addr, l)
		}, nil
	case <-ctx.Done():
		g.done(addr, l)
		return nil, ctx.Err()
	}
}

func (g *AddressGate) done(addr string, l *addrLock) {
	g.mu.Lock()
	l.users--
	if l.users == 0 {
		delete(g.locks, addr)
	}
	g.mu.Unlock()
}

// Len is the number of addresses in use or waited for.
func (g *AddressGate) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.locks)
}
