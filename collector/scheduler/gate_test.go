package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestAddressGateScheduledGoFirst: with many on-demand dialogues queued for
// an address, a scheduled one waits only for the dialogue in progress. On
// the old gate (one channel for all) it waited behind the whole queue.
func TestAddressGateScheduledGoFirst(t *testing.T) {
	g := NewAddressGate()
	ondemand := g.OnDemand()
	ctx := context.Background()
	const addr = "127.0.1.1"
	release, err := ondemand.Acquire(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enter := func(name string, acquire func(context.Context, string) (func(), error)) {
		r, err := acquire(ctx, addr)
		if err != nil {
			t.Errorf("%s: Acquire: %v", name, err)
			return
		}
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
		r()
	}
	const queued = 10
	for range queued {
		wg.Go(func() { enter("ondemand", ondemand.Acquire) })
	}
	waitWaiters(t, g, addr, onDemand, queued)
	wg.Go(func() { enter("scheduled", g.Acquire) })
	waitWaiters(t, g, addr, scheduled, 1)
	release()
	wg.Wait()

	if len(order) != queued+1 || order[0] != "scheduled" {
		t.Fatalf("order after the dialogue in progress: %v, want the scheduled one first", order)
	}
	if n := g.Len(); n != 0 {
		t.Fatalf("gate tracks %d addresses after all released, want 0", n)
	}
}

// TestAddressGateCancelledWaiterLeavesQueue: a waiter whose context ends
// is not handed the address later, and the ones behind it still get it.
func TestAddressGateCancelledWaiterLeavesQueue(t *testing.T) {
	g := NewAddressGate()
	const addr = "::1"
	release, err := g.Acquire(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := g.OnDemand().Acquire(ctx, addr)
		gone <- err
	}()
	waitWaiters(t, g, addr, onDemand, 1)
	next := make(chan error, 1)
	go func() {
		r, err := g.OnDemand().Acquire(context.Background(), addr)
		if err == nil {
			r()
		}
		next <- err
	}()
	waitWaiters(t, g, addr, onDemand, 2)
	cancel()
	if err := <-gone; err == nil {
		t.Fatal("a cancelled waiter got the address")
	}
	release()
	select {
	case err := <-next:
		if err != nil {
			t.Fatalf("the waiter behind a cancelled one: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter behind a cancelled one never got the address")
	}
	if n := g.Len(); n != 0 {
		t.Fatalf("gate tracks %d addresses, want 0", n)
	}
}

// TestAddressGateExpiredContextNeverAcquires: a probe whose deadline has
// passed does not start a dialogue, even on a free address.
func TestAddressGateExpiredContextNeverAcquires(t *testing.T) {
	g := NewAddressGate()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Acquire(ctx, "127.0.1.1"); err == nil {
		t.Fatal("Acquire with an ended context succeeded")
	}
	if n := g.Len(); n != 0 {
		t.Fatalf("gate tracks %d addresses, want 0", n)
	}
}

// waitWaiters waits until n waiters of class c queue for addr.
func waitWaiters(t *testing.T, g *AddressGate, addr string, c class, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.mu.Lock()
		got := 0
		if l := g.locks[addr]; l != nil {
			got = len(l.waiters[c])
		}
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters of class %d for %s, want %d", got, c, addr, n)
		}
		time.Sleep(time.Millisecond)
	}
}
