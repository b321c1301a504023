package gateway

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

// When the configuration gives no vlan_address for the peer, each gateway
// took its own from its Metadata Service and cannot read the peer's. BGP
// then accepts the peer's iBGP session from the VLAN prefix
// (bgp.Config.IBGPRange), and the gateway learns the address from VRRP:
// while it is backup, the master's adverts come from the master's primary
// VLAN address, which is the one its speaker uses for iBGP. The backup
// then connects (bgp.SetIBGPPeer) and the master, which hears nothing from
// a silent backup, accepts the session. After a role change the new
// backup learns its peer the same way, so both end up knowing each other.

// learnEvery is how often a gateway that knows its peer's address asks VRRP
// whether it changed (a peer rebuilt with another ipam_address): about once
// a second, as peerCheckEvery. Until the first address is learned it asks
// on every tick of the wiring, which is then quick (tickPeriod).
const learnEvery = tickIdle * 9 / 10

// peerLearner hands the VRRP master's address to BGP. Its methods run on
// the wiring goroutine.
type peerLearner struct {
	log  *slog.Logger
	vlan netip.Prefix // the site's VLAN prefix
	self netip.Addr   // our own VLAN address
	// master reports whether this gateway is backup and the master's
	// address as VRRP last heard it (vrrp.Router.Status).
	master func() (backup bool, addr netip.Addr)
	// set is bgp.Speaker.SetIBGPPeer.
	set func(netip.Addr) error

	learned  netip.Addr
	lastPoll time.Time
}

// vrrpChange learns from a transition caused by the peer's advert (a
// master that was outranked becomes backup).
func (l *peerLearner) vrrpChange(sc vrrp.StateChange) {
	if sc.State == vrrp.StateBackup {
		l.learn(sc.Peer)
	}
}

// tick polls VRRP; called on every tick of the wiring.
func (l *peerLearner) tick(now time.Time) {
	if l.learned.IsValid() && now.Sub(l.lastPoll) < learnEvery {
		return
	}
	l.lastPoll = now
	if backup, addr := l.master(); backup {
		l.learn(addr)
	}
}

// learn gives BGP addr if it is a new address of the VLAN other than ours.
func (l *peerLearner) learn(addr netip.Addr) {
	if !addr.IsValid() || addr == l.learned || addr == l.self || !l.vlan.Contains(addr) {
		return
	}
	if err := l.set(addr); err != nil {
		l.log.Warn("iBGP peer from VRRP refused", "peer", addr, "err", err)
		return
	}
	l.log.Info("iBGP peer learned from the VRRP master's adverts", "peer", addr, "previous", l.learned)
	l.learned = addr
}
