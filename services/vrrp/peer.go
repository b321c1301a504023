package vrrp

import (
	"errors"
	"net/netip"
	"time"
)

// A tidegate site is a pair: two gateways share the VLAN's virtual IP, and
// any other speaker for the VRID is either a mistake (a second keepalived
// pair left with the seed's VRID 10 and password, a test box) or an attack.
// RFC 5798 lets any router on the link take over by advertising a higher
// priority; gate narrows that to the pair's peer, after the RFC's own
// checks (filter):
//
//   - the source must be a unicast host address inside the VLAN prefix
//     (Config.Prefix), or the advert is dropped as DropSource, whatever its
//     VRID;
//   - an advert for our VRID that passes every other check (version,
//     authentication, interval, addresses) must come from the peer, or it is
//     dropped as DropPeer. The peer is Config.Peer when the site names it;
//     otherwise it is learned: the first such advert from anyone but us
//     pins its source.
//
// A learned peer is kept until the Router is rebuilt (the gateway
// restarts), never forgotten on silence: only the master advertises, so a
// healthy backup twin is silent for as long as we are master, and "no
// advert from the peer for a while" is the normal state of a healthy
// master. Expiring the pin on silence would reopen learning on every
// healthy master after the delay, for whoever advertises first. See
// doc.go for what that means when the twin is rebuilt with a new address.
//
// None of this stops a host that forges the peer's source address: VRRP
// has no real authentication (v2's password is sent in clear). It stops a
// host that speaks with its own address, and it keeps such a host out of
// Status.MasterAddr and StateChange.Peer, which the gateway uses to find
// its iBGP peer.
type gate struct {
	filter filter
	prefix netip.Prefix // the VLAN, masked; invalid: any unicast source
	self   netip.Addr   // our primary address (adverts from it are ours)

	peer    netip.Addr // the only source accepted for our VRID; invalid: not learned yet
	learned bool       // peer was learned, not configured
	since   time.Time  // when a learned peer was pinned
}

// errSelf marks our own advert, reflected by the LAN: ignored, not counted.
var errSelf = errors.New("vrrp: our own advert")

// admit decides whether a decoded advert may reach the state machine. It
// returns nil to accept it, errSelf for our own advert, or a *dropError.
// pinned reports that this advert made its source the learned peer.
func (g *gate) admit(now time.Time, d *datagram) (pinned bool, err error) {
	if d.Src == g.self {
		return false, errSelf
	}
	if err := g.checkSource(d.Src); err != nil {
		return false, err
	}
	if err := g.filter.check(d.Advert); err != nil {
		return false, err
	}
	if g.peer.IsValid() {
		if d.Src != g.peer {
			how := "configured"
			if g.learned {
				how = "learned"
			}
			return false, drop(DropPeer, "VRID %d advert from %v; the pair's peer is %v (%s)", d.Advert.VRID, d.Src, g.peer, how)
		}
		return false, nil
	}
	g.peer, g.learned, g.since = d.Src, true, now
	return true, nil
}

// checkSource drops sources that no router of the VLAN can have.
func (g *gate) checkSource(src netip.Addr) error {
	if !unicastHost(src, g.prefix) {
		if g.prefix.IsValid() {
			return drop(DropSource, "source %v is not a host address of the VLAN %v", src, g.prefix)
		}
		return drop(DropSource, "source %v is not a unicast address", src)
	}
	return nil
}

// unicastHost reports whether a can be a VRRP router's primary address:
// IPv4 unicast, and when prefix is valid, one of its host addresses (not
// its network or broadcast address, for prefixes that have them).
func unicastHost(a netip.Addr, prefix netip.Prefix) bool {
	if !a.Is4() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	if !prefix.IsValid() {
		return true
	}
	if !prefix.Contains(a) {
		return false
	}
	if prefix.Bits() <= 30 {
		network := prefix.Masked().Addr()
		if a == network || a == lastAddr(prefix) {
			return false
		}
	}
	return true
}

// lastAddr is an IPv4 prefix's broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
