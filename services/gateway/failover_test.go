package gateway

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

type fakeReturnPath struct {
	held, gone, back bool
	holds            int
}

func (f *fakeReturnPath) HoldReturnPath(on bool) {
	f.held = on
	if on {
		f.holds++
	}
}
func (f *fakeReturnPath) PeerGone(gone bool) { f.gone = gone }
func (f *fakeReturnPath) PeerBack() bool     { return f.back }

// fakeRx is the VLAN interface's receive counter.
type fakeRx struct{ n uint64 }

func (r *fakeRx) read() (uint64, error) { return r.n, nil }

func newTestFailover() (*failover, *fakeReturnPath, *fakeRx) {
	b, rx := &fakeReturnPath{}, &fakeRx{n: 1000}
	return &failover{bgp: b, rx: rx.read}, b, rx
}

// masterDown is a takeover after the peer, master until then, went silent.
var masterDown = vrrp.StateChange{State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown, Peer: netip.MustParseAddr("10.0.1.3")}

func TestFailoverHoldsOnlyAfterASilentPeer(t *testing.T) {
	for _, tc := range []struct {
		reason vrrp.Reason
		hold   bool
	}{
		{vrrp.ReasonMasterDown, true},
		{vrrp.ReasonPriorityZero, false}, // a planned handover
		{vrrp.ReasonPreempt, false},
	} {
		f, b, rx := newTestFailover()
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: tc.reason, Peer: masterDown.Peer})
		rx.n += evidenceFrames
		f.check(time.Now())
		if b.held != tc.hold || b.gone != tc.hold || f.holding != tc.hold {
			t.Errorf("master by %q: held %v gone %v, want %v", tc.reason, b.held, b.gone, tc.hold)
		}
	}
}

// The pair's first gateway to boot becomes master by the master-down timer
// without ever hearing a master: nothing of a peer's can be at AWS, so it
// holds nothing, but it still waits for VLAN traffic before it stops
// prepending (the wiring's deferral ends on the evidence).
func TestFailoverHoldsNothingAtFirstBoot(t *testing.T) {
	f, b, rx := newTestFailover()
	msg := f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown})
	if b.gone || msg == "" {
		t.Errorf("no peer ever heard, yet its paths are ignored (gone %v) or nothing said (%q)", b.gone, msg)
	}
	now := time.Now()
	if _, ev := f.check(now); ev {
		t.Fatal("evidence reported before any VLAN traffic")
	}
	rx.n += evidenceFrames
	if msg, ev := f.check(now.Add(100 * time.Millisecond)); !ev || msg == "" {
		t.Fatalf("VLAN traffic seen but no evidence reported (%q): the wiring would prepend for good", msg)
	}
	if b.held || b.holds != 0 || f.holding || f.pending {
		t.Errorf("held %v (%d holds), holding %v, pending %v: want nothing held", b.held, b.holds, f.holding, f.pending)
	}
	// Later the peer boots and fails: that takeover holds as usual.
	f.vrrpChange(vrrp.StateChange{State: vrrp.StateBackup, Reason: vrrp.ReasonPreempt})
	f.vrrpChange(masterDown)
	rx.n += evidenceFrames
	f.check(now.Add(time.Second))
	if !b.held || !b.gone {
		t.Errorf("after the peer was heard and went silent: held %v gone %v, want both", b.held, b.gone)
	}
}

// A gateway cut off from the VLAN (split brain) sees no frames there and
// must not draw AWS's return traffic to itself.
func TestFailoverHoldsOnlyWithVLANTraffic(t *testing.T) {
	f, b, rx := newTestFailover()
	f.vrrpChange(masterDown)
	if !b.gone {
		t.Error("the silent peer's iBGP paths are still used")
	}
	now := time.Now()
	for i := range evidenceFrames - 1 { // a frame now and then, not enough yet
		rx.n++
		f.check(now.Add(time.Duration(i) * 100 * time.Millisecond))
	}
	if b.held {
		t.Fatalf("held the return path after %d frames, want %d", rx.n-1000, evidenceFrames)
	}
	rx.n = 1000 + evidenceFrames
	if msg, ev := f.check(now.Add(time.Second)); msg == "" || !ev || !b.held || !f.holding {
		t.Fatalf("VLAN traffic seen but the return path is not held (%q)", msg)
	}
}

func TestFailoverReleases(t *testing.T) {
	t.Run("peer back", func(t *testing.T) {
		f, b, rx := newTestFailover()
		f.vrrpChange(masterDown)
		rx.n += evidenceFrames
		now := time.Now()
		f.check(now)
		if !b.held {
			t.Fatal("not held")
		}
		if msg, _ := f.check(now.Add(2 * time.Second)); msg != "" || !b.held {
			t.Fatal("released before the peer was back")
		}
		b.back = true
		if msg, _ := f.check(now.Add(4 * time.Second)); msg == "" || b.held || b.gone || f.holding || !f.since.IsZero() {
			t.Errorf("peer back: held %v gone %v holding %v", b.held, b.gone, f.holding)
		}
	})
	t.Run("peer back before any VLAN traffic", func(t *testing.T) {
		f, b, _ := newTestFailover()
		f.vrrpChange(masterDown)
		b.back = true
		f.check(time.Now().Add(2 * time.Second))
		if b.gone || f.pending || b.holds != 0 {
			t.Errorf("gone %v pending %v holds %d", b.gone, f.pending, b.holds)
		}
	})
	t.Run("preempted", func(t *testing.T) {
		f, b, rx := newTestFailover()
		f.vrrpChange(masterDown)
		rx.n += evidenceFrames
		f.check(time.Now())
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateBackup, Reason: vrrp.ReasonPreempt})
		if b.held || b.gone {
			t.Errorf("backup again: held %v gone %v", b.held, b.gone)
		}
	})
	t.Run("repeated master events hold once", func(t *testing.T) {
		f, b, rx := newTestFailover()
		for range 3 {
			f.vrrpChange(masterDown)
			rx.n += evidenceFrames
			f.check(time.Now())
		}
		if b.holds != 1 {
			t.Errorf("%d holds, want 1", b.holds)
		}
	})
}
