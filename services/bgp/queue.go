package bgp

import (
	"context"
	"sync"
)

// updateQueue carries best-path changes from GoBGP's watcher to the kernel
// writer. GoBGP reports each destination's change as an event of its own
// (one per prefix of an UPDATE), so a channel of events would make one
// netlink round trip per prefix. The queue instead collects whatever
// arrives while the writer is busy and hands it over in one piece: the
// writer's batches grow with the load, and a single change still goes out
// at once. Order is kept, and it never blocks the watcher (which would
// only make GoBGP buffer its own, larger, copies of the paths).
type updateQueue struct {
	mu      sync.Mutex
	pending []update
	hops    []nexthop // what pending's Hops point into
	// The writer's last batch, reused once it asks for the next.
	spare     []update
	spareHops []nexthop
	wake      chan struct{} // one token: pending is not empty
}

func newUpdateQueue() *updateQueue {
	return &updateQueue{wake: make(chan struct{}, 1)}
}

// push appends a copy of ups (from the watcher's goroutine).
func (q *updateQueue) push(ups []update) {
	q.mu.Lock()
	for _, u := range ups {
		// Earlier updates keep pointing into the old array when append
		// moves q.hops: it is not reused, so they stay valid.
		start := len(q.hops)
		q.hops = append(q.hops, u.Hops...)
		u.Hops = q.hops[start:len(q.hops):len(q.hops)]
		q.pending = append(q.pending, u)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take waits for changes and returns all of them; the slice is valid
// until the next call. ok is false when ctx is done.
func (q *updateQueue) take(ctx context.Context) (ups []update, ok bool) {
	for {
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil, false
		}
		q.mu.Lock()
		ups, hops := q.pending, q.hops
		q.pending, q.hops = reuse(q.spare), reuse(q.spareHops)
		q.spare, q.spareHops = ups, hops
		q.mu.Unlock()
		if len(ups) > 0 {
			return ups, true
		}
	}
}

// keepCap is the largest buffer kept for reuse: what a burst of a full
// table needed is let go once the burst is over.
const keepCap = 4096

func reuse[T any](s []T) []T {
	if cap(s) > keepCap {
		return nil
	}
	clear(s) // drop references into older arrays
	return s[:0]
}

// maxApply bounds how many changes one kernel.apply takes, so that the
// kernel's lock (which Status and reconciliation wait for) is let go
// between chunks of a large burst.
const maxApply = 4096

// drain feeds the kernel from q until ctx is done.
func (q *updateQueue) drain(ctx context.Context, k *kernel) {
	for {
		ups, ok := q.take(ctx)
		if !ok {
			return // Run is returning: stop removes our routes
		}
		for len(ups) > 0 {
			n := min(len(ups), maxApply)
			k.apply(ups[:n])
			ups = ups[n:]
		}
	}
}
