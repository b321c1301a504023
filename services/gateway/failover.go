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
// fires as if the peer had died. Holding the return path then draws all of
// AWS's return traffic to this gateway, which is right if it still reaches
// the VLAN hosts and a black hole if it is the side that was cut off. So the
// halves go out only with evidence that the VLAN works: frames arriving on
// the VLAN interface after this gateway took the virtual IP (hosts whose
// ARP caches its gratuitous ARPs moved, sending to it). A gateway cut off
// from the VLAN receives nothing, never holds, and the pair behaves as
// without this feature: AWS keeps routing by the plain prefixes. Ignoring
// the peer's iBGP paths starts at once either way (a cut-off gateway
// forwards nothing). When the cut heals, the adverts of the higher priority
// return, the lower one goes back to backup and releases everything, and
// the pair returns to one master and normal announcements.

// returnPath is what the failover drives in BGP.
type returnPath interface {
	HoldReturnPath(on bool)
	PeerGone(gone bool)
	PeerBack() bool
}

// evidenceFrames is how many frames must arrive on the VLAN interface after
// this gateway took over before it holds the return path.
const evidenceFrames = 3

// peerCheckEvery bounds how often a holding gateway asks BGP whether the
// peer is back.
const peerCheckEvery = time.Second

// failover tracks whether this gateway holds the return path. Its methods
// run on the wiring goroutine.
type failover struct {
	bgp returnPath
	// rx counts the frames received on the VLAN interface.
	rx func() (uint64, error)

	// pending: master after a silent peer, waiting for VLAN evidence
	// since rx0 was read.
	pending bool
	rx0     uint64

	holding   bool
	since     time.Time
	lastCheck time.Time
}

// vrrpChange reacts to a VRRP transition; it reports what it did. The
// wiring holds back bgp.SetMaster(true) after a master-down takeover until
// check reports evidence.
func (f *failover) vrrpChange(sc vrrp.StateChange) string {
	switch {
	case sc.State == vrrp.StateMaster && sc.Reason == vrrp.ReasonMasterDown && !f.pending && !f.holding:
		f.bgp.PeerGone(true)
		f.pending = true
		f.rx0, _ = f.rx()
		return "peer went silent: ignoring its iBGP paths; holding the return path once the VLAN shows traffic"
	case sc.State != vrrp.StateMaster && (f.pending || f.holding):
		f.release()
		return "no longer master: return path released"
	}
	return ""
}

// check, called often (every tick of the wiring), holds the return path
// once the VLAN shows traffic and releases it once the peer is back.
// evidence reports the moment the VLAN traffic was seen: the wiring then
// stops prepending, which it held back for the same reason.
func (f *failover) check(now time.Time) (msg string, evidence bool) {
	if f.pending {
		if n, err := f.rx(); err == nil && n >= f.rx0+evidenceFrames {
			f.pending, f.holding, f.since = false, true, now
			f.bgp.HoldReturnPath(true)
			return "VLAN traffic seen: holding the return path (more-specifics to AWS)", true
		}
	}
	if (f.pending || f.holding) && now.Sub(f.lastCheck) >= peerCheckEvery {
		f.lastCheck = now
		if f.bgp.PeerBack() {
			wasPending := f.pending
			f.release()
			// A master that never saw VLAN traffic still prepends: the
			// peer being back is evidence enough that the pair works.
			return "peer is back (iBGP up with AWS routes): return path released", wasPending
		}
	}
	return "", false
}

func (f *failover) release() {
	if f.holding {
		f.bgp.HoldReturnPath(false)
	}
	f.pending, f.holding = false, false
	f.since = time.Time{}
	f.bgp.PeerGone(false)
}
