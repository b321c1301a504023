package gateway

import (
	"context"
	"sync"
)

// speakerControl is what the wiring and the failover ask of the BGP
// speaker (bgp.Speaker).
type speakerControl interface {
	bgpControl
	returnPath
}

// bgpQueue hands the wiring's orders to the BGP speaker on a goroutine of
// its own, in order. Each order is a GoBGP management call, which waits
// for GoBGP's main loop: under a flood of UPDATEs (seen in the lab's
// TestTrustBoundaries, in QEMU) that takes seconds, and the wiring's loop,
// which beats on the lifeline to PID 1, must not wait with it: PID 1 would
// take the stalled loop for a hung gateway and kill it, again and again
// while the flood lasts. PeerBack is a question, not an order: it is asked
// directly, and bounds its own wait (bgp.Speaker.PeerBack).
type bgpQueue struct {
	sp speakerControl

	mu     sync.Mutex
	orders []func(speakerControl)
	wake   chan struct{}
}

func newBGPQueue(sp speakerControl) *bgpQueue {
	return &bgpQueue{sp: sp, wake: make(chan struct{}, 1)}
}

// run applies the orders until ctx ends; orders still queued then are
// dropped, as the wiring drops events once it stops.
func (q *bgpQueue) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			if len(q.orders) == 0 {
				q.mu.Unlock()
				break
			}
			next := q.orders[0]
			q.orders = q.orders[1:]
			q.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			next(q.sp)
		}
	}
}

func (q *bgpQueue) push(order func(speakerControl)) {
	q.mu.Lock()
	q.orders = append(q.orders, order)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *bgpQueue) SetMaster(master bool) {
	q.push(func(sp speakerControl) { sp.SetMaster(master) })
}
func (q *bgpQueue) SetPeerVIP(master bool) {
	q.push(func(sp speakerControl) { sp.SetPeerVIP(master) })
}
func (q *bgpQueue) TunnelUp(name string)   { q.push(func(sp speakerControl) { sp.TunnelUp(name) }) }
func (q *bgpQueue) TunnelDown(name string) { q.push(func(sp speakerControl) { sp.TunnelDown(name) }) }
func (q *bgpQueue) HoldReturnPath(on bool) {
	q.push(func(sp speakerControl) { sp.HoldReturnPath(on) })
}
func (q *bgpQueue) PeerGone(gone bool) { q.push(func(sp speakerControl) { sp.PeerGone(gone) }) }
func (q *bgpQueue) PeerBack() bool     { return q.sp.PeerBack() }
