package ipsec

import (
	"sync"
	"time"
)

// A TunnelEvent says that a tunnel went up or down. Up means its IKE_SA is
// established and its CHILD_SA installed: traffic (and BGP) can flow.
type TunnelEvent struct {
	Tunnel string // the tunnel's (and connection's) name
	Up     bool
	Reason string // why, for logs: "child-updown", "charon exited: ...", ...
	Time   time.Time
}

// publisher hands events to the reader of out in order, queueing without
// bound so the service never blocks on a slow reader.
type publisher struct {
	out chan TunnelEvent

	mu     sync.Mutex
	queue  []TunnelEvent
	wake   chan struct{}
	closed bool
	stop   chan struct{}
}

func newPublisher() *publisher {
	return &publisher{
		out:  make(chan TunnelEvent),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
}

func (p *publisher) publish(e TunnelEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.queue = append(p.queue, e)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run delivers queued events in order until close, then closes out.
// Events still queued at close get a short last chance to be read.
func (p *publisher) run() {
	defer close(p.out)
	var (
		q    []TunnelEvent
		stop = p.stop
		last <-chan time.Time // set once stopping
	)
	for {
		if len(q) == 0 {
			p.mu.Lock()
			q, p.queue = p.queue, nil
			p.mu.Unlock()
		}
		if len(q) == 0 && last != nil {
			return
		}
		var out chan TunnelEvent
		var next TunnelEvent
		if len(q) > 0 {
			out, next = p.out, q[0]
		}
		select {
		case out <- next:
			q = q[1:]
		case <-p.wake: // more in p.queue, taken once q is empty
		case <-stop:
			stop, last = nil, time.After(200*time.Millisecond)
		case <-last:
			return
		}
	}
}

// close stops run; later events are dropped. Safe to call more than once.
func (p *publisher) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
}
