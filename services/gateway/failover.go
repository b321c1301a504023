package gateway

import (
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

// Holding the return path (docs/design.md, "A crash: the return-path hold",
// has the measurements): when the master dies without resigning, this
// gateway takes the virtual IP after the master-down timer, but AWS keeps
// sending the VLAN's return traffic into the dead gateway's tunnels until
// its DPD or hold timer (30 s), and this gateway's backup prepend makes
// those dead paths look better. So a gateway that becomes master by the
// master-down timer at once
//
//   - stops using the paths the peer sent over iBGP (bgp.PeerGone), so
//     forwarded traffic takes this gateway's own tunnels instead of waiting
//     for the iBGP hold timer; and
//   - once the VLAN shows traffic (below), announces each advertised
//     prefix's two halves to AWS, unprepended (bgp.HoldReturnPath): AWS
//     routes by longest prefix, so the return traffic comes here the moment
//     the update lands, whatever AWS still believes about the dead peer.
//
// A master by the master-down timer that never heard a master before (the
// pair's first gateway to boot) holds nothing: no peer path can be at AWS
// to beat, and a hold from boot would be a trap. If this gateway died
// before its peer was back (PeerBack below), AWS would keep its stale
// halves until its hold timer, and the peer's own halves, taking over,
// would only tie with them (a 28 s gap once in the lab). It still keeps
// prepending until the VLAN shows traffic, for the split-brain reason
// below. The one case this gives up: both gateways die together and the
// one booting first is ready while AWS still holds the other's last paths.
//
// Both end when the peer is back: alive over the VLAN with a tunnel up
// (bgp's PeerBack: its iBGP session talks again and carries AWS routes), or
// when this gateway stops being master (the peer preempted it, or resigned
// to it). A backup never holds: it would draw the return traffic away from
// the master. A resignation (priority 0) or preemption does not hold
// anything: the old master's routes were withdrawn in an orderly way.
//
// # Split brain
//
// The VLAN is cut and both gateways are alive: the old master keeps its
// role, and the old backup's master-down timer fires as if the peer had
// died, so both are master. Holding the return path would then draw all of
// AWS's return traffic to the holder: right if it is the side that still
// reaches the VLAN hosts (the other's VLAN attachment failed), a total
// black hole if it is the side that was cut off, since its halves beat the
// old master's whole prefix. Without the halves, two unprepended prefixes
// leave the choice to AWS's own tie-breakers (a virtual private gateway
// uses one path, a transit gateway with ECMP spreads flows over both),
// which no gateway controls.
//
// So the halves go out only with evidence that the VLAN works: frames
// arriving on the VLAN interface after this gateway took the virtual IP
// (evidenceFrames of them: hosts whose ARP caches its gratuitous ARPs
// moved, sending to it). A gateway cut off from the VLAN receives nothing,
// never holds, and the pair behaves as without this feature: AWS keeps
// routing by the plain prefixes. Ignoring the peer's iBGP paths starts at
// once either way (a cut-off gateway forwards nothing).
//
// If both hold (both became master by the timer and both see VLAN
// traffic), AWS sees equal halves from both and picks as it would between
// equal whole prefixes: the halves move the contest one bit longer and
// change nothing else. Nothing loops in any case: the halves are in no
// kernel, each gateway reaches the VLAN by its connected route, and
// PeerGone keeps each on its own tunnels toward AWS (the other's iBGP next
// hop is unreachable anyway). When the cut heals, the adverts of the
// higher priority return, the lower one goes back to backup and releases
// everything, the master releases on PeerBack, and AWS sees the normal
// announcements again. services/bgp's TestSplitBrainWithFRR runs these
// steps against FRR as AWS.

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
// peer is back: about once a second, a little less so that the wiring's
// idle tick (tickIdle) asks on every tick despite the timer's jitter.
const peerCheckEvery = tickIdle * 9 / 10

// failover tracks whether this gateway holds the return path. Its methods
// run on the wiring goroutine.
type failover struct {
	bgp returnPath
	// rx counts the frames received on the VLAN interface.
	rx func() (uint64, error)

	// pending: master by the master-down timer, waiting for VLAN evidence
	// since rx0 was read; hold: a peer went silent (one had been heard),
	// so the evidence starts the hold.
	pending, hold bool
	rx0           uint64

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
		f.pending, f.hold = true, sc.Peer.IsValid()
		f.rx0, _ = f.rx()
		if !f.hold {
			return "master with no peer heard since start: nothing to hold; prepending until the VLAN shows traffic"
		}
		f.bgp.PeerGone(true)
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
			f.pending = false
			if !f.hold {
				return "VLAN traffic seen: announcing unprepended", true
			}
			f.holding, f.since = true, now
			f.bgp.HoldReturnPath(true)
			return "VLAN traffic seen: holding the return path (more-specifics to AWS)", true
		}
	}
	if (f.pending || f.holding) && now.Sub(f.lastCheck) >= peerCheckEvery {
		f.lastCheck = now
		if f.bgp.PeerBack() {
			// A master that never saw VLAN traffic still prepends: the
			// peer being back is evidence enough that the pair works.
			wasPending, held := f.pending, f.hold
			f.release()
			if !held {
				return "peer is back (iBGP up with AWS routes)", wasPending
			}
			return "peer is back (iBGP up with AWS routes): return path released", wasPending
		}
	}
	return "", false
}

func (f *failover) release() {
	if f.holding {
		f.bgp.HoldReturnPath(false)
	}
	if f.hold {
		f.bgp.PeerGone(false)
	}
	f.pending, f.holding, f.hold = false, false, false
	f.since = time.Time{}
}
