package gateway

import (
	"testing"

	"github.com/tidegate/tidegate/services/vrrp"
)

type fakeReturnPath struct {
	held, gone, back bool
	calls            int
}

func (f *fakeReturnPath) HoldReturnPath(on bool) { f.held = on; f.calls++ }
func (f *fakeReturnPath) PeerGone(gone bool)     { f.gone = gone; f.calls++ }
func (f *fakeReturnPath) PeerBack() bool         { return f.back }

func TestFailoverHoldsOnlyAfterASilentPeer(t *testing.T) {
	for _, tc := range []struct {
		reason vrrp.Reason
		hold   bool
	}{
		{vrrp.ReasonMasterDown, true},
		{vrrp.ReasonPriorityZero, false}, // a planned handover
		{vrrp.ReasonPreempt, false},
	} {
		b := &fakeReturnPath{}
		f := &failover{bgp: b}
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: tc.reason})
		if b.held != tc.hold || b.gone != tc.hold || f.holding != tc.hold {
			t.Errorf("master by %q: held %v gone %v, want %v", tc.reason, b.held, b.gone, tc.hold)
		}
	}
}

func TestFailoverReleases(t *testing.T) {
	t.Run("peer back", func(t *testing.T) {
		b := &fakeReturnPath{}
		f := &failover{bgp: b}
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown})
		if f.check() != "" || !b.held {
			t.Fatal("released before the peer was back")
		}
		b.back = true
		if f.check() == "" || b.held || b.gone || f.holding || !f.since.IsZero() {
			t.Errorf("peer back: held %v gone %v holding %v", b.held, b.gone, f.holding)
		}
	})
	t.Run("preempted", func(t *testing.T) {
		b := &fakeReturnPath{}
		f := &failover{bgp: b}
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown})
		f.vrrpChange(vrrp.StateChange{State: vrrp.StateBackup, Reason: vrrp.ReasonPreempt})
		if b.held || b.gone {
			t.Errorf("backup again: held %v gone %v", b.held, b.gone)
		}
	})
	t.Run("repeated master events hold once", func(t *testing.T) {
		b := &fakeReturnPath{}
		f := &failover{bgp: b}
		for range 3 {
			f.vrrpChange(vrrp.StateChange{State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown})
		}
		if b.calls != 2 {
			t.Errorf("%d calls into bgp, want 2", b.calls)
		}
	})
}
