package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// slowSpeaker records the orders it gets; each takes a while, as GoBGP's
// management calls do under a flood.
type slowSpeaker struct {
	mu    sync.Mutex
	calls []string
	delay time.Duration
	back  bool
}

func (s *slowSpeaker) record(c string) {
	time.Sleep(s.delay)
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *slowSpeaker) SetMaster(m bool)       { s.record(fmt.Sprint("master ", m)) }
func (s *slowSpeaker) SetPeerVIP(m bool)      { s.record(fmt.Sprint("peer vip ", m)) }
func (s *slowSpeaker) TunnelUp(n string)      { s.record("up " + n) }
func (s *slowSpeaker) TunnelDown(n string)    { s.record("down " + n) }
func (s *slowSpeaker) HoldReturnPath(on bool) { s.record(fmt.Sprint("hold ", on)) }
func (s *slowSpeaker) PeerGone(g bool)        { s.record(fmt.Sprint("gone ", g)) }
func (s *slowSpeaker) PeerBack() bool         { return s.back }

func (s *slowSpeaker) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// TestBGPQueue: the wiring's orders return at once however slow the
// speaker is, and reach it in order.
func TestBGPQueue(t *testing.T) {
	sp := &slowSpeaker{delay: 200 * time.Millisecond, back: true}
	q := newBGPQueue(sp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.run(ctx); close(done) }()

	start := time.Now()
	q.PeerGone(true)
	q.SetMaster(true)
	q.TunnelDown("vpn-1a")
	q.HoldReturnPath(true)
	q.TunnelUp("vpn-1a")
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("five orders took %v to hand over; the caller must not wait for BGP", d)
	}
	if !q.PeerBack() {
		t.Error("PeerBack is not the speaker's answer")
	}
	want := []string{"gone true", "master true", "down vpn-1a", "hold true", "up vpn-1a"}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(sp.got(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("orders applied: %q, want %q", sp.got(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	q.SetMaster(false) // after the stop: dropped, never applied
	time.Sleep(300 * time.Millisecond)
	if got := sp.got(); len(got) != len(want) {
		t.Errorf("an order after the stop was applied: %q", got)
	}
}
