package gateway

import (
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

// Holding the return path (issue 9): when the master dies without
// resigning, this gateway takes the virtual IP after the master-down timer,
// but AWS keeps sending the VLAN's return traffic into the dead gateway's
// tunnels until its DPD or hold timer (30 s). So a gateway that becomes
// master by the master-down timer at once
//
//   - announces each advertised prefix's two halves to AWS, unprepended
//     (bgp.HoldReturnPath): AWS routes by longest prefix, so the return
//     traffic comes here the moment the update lands, whatever AWS still
//     believes about the dead peer; and
//   - stops using the paths the peer sent over iBGP (bgp.PeerGone), so
//     forwarded traffic takes this gateway's own tunnels instead of waiting
//     for the iBGP hold timer.
//
// Both end when the peer is back: alive over the VLAN with a tunnel up
// (bgp's PeerBack: its iBGP session talks again and carries AWS routes), or
// when this gateway stops being master (the peer preempted it, or resigned
// to it). A resignation (priority 0) or preemption does not hold anything:
// the old master's routes were withdrawn in an orderly way.
//
// Split brain (the VLAN cut, both alive, both master): the backup's timer
// fires, so it holds the return path while the other side still announces
// the plain prefixes; AWS prefers the halves and returns everything through
// the gateway that lost its peer. That is safe as long as that gateway
// still reaches the VLAN hosts it is master for, which is the case the
// split-brain test covers (the cut between the gateways, the hosts on the
// holder's side). When the cut heals, the adverts of the higher priority
// return, the lower one goes back to backup and releases the halves, and
// the pair returns to one master and normal announcements.

// returnPath is what the failover drives in BGP.
type returnPath interface {
	HoldReturnPath(on bool)
	PeerGone(gone bool)
	PeerBack() bool
}

// failover tracks whether this gateway holds the return path. Its methods
// run on the wiring goroutine.
type failover struct {
	bgp     returnPath
	holding bool
	since   time.Time
}

// vrrpChange reacts to a VRRP transition; it reports what it did.
func (f *failover) vrrpChange(sc vrrp.StateChange) string {
	switch {
	case sc.State == vrrp.StateMaster && sc.Reason == vrrp.ReasonMasterDown && !f.holding:
		f.holding, f.since = true, time.Now()
		f.bgp.PeerGone(true)
		f.bgp.HoldReturnPath(true)
		return "peer went silent: holding the return path (more-specifics to AWS) and ignoring the peer's iBGP paths"
	case sc.State != vrrp.StateMaster && f.holding:
		f.release()
		return "no longer master: return path released"
	}
	return ""
}

// check releases the return path once the peer is back.
func (f *failover) check() string {
	if f.holding && f.bgp.PeerBack() {
		f.release()
		return "peer is back (iBGP up with AWS routes): return path released"
	}
	return ""
}

func (f *failover) release() {
	f.holding = false
	f.since = time.Time{}
	f.bgp.HoldReturnPath(false)
	f.bgp.PeerGone(false)
}
