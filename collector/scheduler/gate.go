package scheduler

import (
	"context"
	"sync"
)

// AddressGate lets one dialogue at a time talk to an address, whatever
// targets lead to it: many domains often share one gateway, and a gateway
// should see us as one polite client, not a burst.
//
// Waiters come in two classes. When an address is released, the scheduler's
// dialogues go before on-demand (/probe) ones, each class first come first
// served: however many /probe requests queue for an address, a scheduled
// probe waits for at most the one dialogue in progress, so /probe cannot
// make a configured target fail.
type AddressGate struct {
	mu    sync.Mutex
	locks map[string]*addrLock
}

// class orders waiters: a lower class goes first.
type class int

const (
	scheduled class = iota
	onDemand
	classes
)

type addrLock struct {
	busy    bool
	waiters [classes][]*waiter
	users   int // holders and waiters; the lock is dropped at zero
}

type waiter struct {
	turn    chan struct{} // closed when the address is handed to it
	granted bool          // guarded by AddressGate.mu
}

// NewAddressGate returns an empty gate.
func NewAddressGate() *AddressGate { return &AddressGate{locks: map[string]*addrLock{}} }

// Acquire waits until addr is free or ctx ends, ahead of every on-demand
// waiter: the scheduler's own dialogues.
func (g *AddressGate) Acquire(ctx context.Context, addr string) (func(), error) {
	return g.acquire(ctx, addr, scheduled)
}

// OnDemand is the gate seen by probes run on request (/probe): they wait
// behind every scheduled dialogue of the address.
func (g *AddressGate) OnDemand() *OnDemandGate { return &OnDemandGate{g: g} }

// OnDemandGate is AddressGate for on-demand probes (see OnDemand).
type OnDemandGate struct{ g *AddressGate }

// Acquire waits until addr is free and no scheduled dialogue waits for it,
// or ctx ends.
func (o *OnDemandGate) Acquire(ctx context.Context, addr string) (func(), error) {
	return o.g.acquire(ctx, addr, onDemand)
}

func (g *AddressGate) acquire(ctx context.Context, addr string, c class) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.mu.Lock()
	l, ok := g.locks[addr]
	if !ok {
		l = &addrLock{}
		g.locks[addr] = l
	}
	l.users++
	release := func() { g.release(addr, l) }
	if !l.busy {
		l.busy = true
		g.mu.Unlock()
		return release, nil
	}
	w := &waiter{turn: make(chan struct{})}
	l.waiters[c] = append(l.waiters[c], w)
	g.mu.Unlock()

	select {
	case <-w.turn:
		return release, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if w.granted {
		// The address was handed over as ctx ended: pass it on.
		g.mu.Unlock()
		release()
		return nil, ctx.Err()
	}
	q := l.waiters[c]
	for i, x := range q {
		if x == w {
			l.waiters[c] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	g.dropLocked(addr, l)
	g.mu.Unlock()
	return nil, ctx.Err()
}

// release hands the address to the first waiter of the first class that
// has one, or frees it.
func (g *AddressGate) release(addr string, l *addrLock) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dropLocked(addr, l)
	for c := range l.waiters {
		if q := l.waiters[c]; len(q) > 0 {
			w := q[0]
			q[0] = nil
			l.waiters[c] = q[1:]
			w.granted = true
			close(w.turn)
			return // busy stays true: it passes to w
		}
	}
	l.busy = false
}

func (g *AddressGate) dropLocked(addr string, l *addrLock) {
	l.users--
	if l.users == 0 {
		delete(g.locks, addr)
	}
}

// Len is the number of addresses in use or waited for.
func (g *AddressGate) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.locks)
}
