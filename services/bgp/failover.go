package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// returnPathPrefixes is what HoldReturnPath announces: the two halves of
// each configured prefix, except halves that are configured prefixes
// themselves (10.0.1.0/24 and 10.0.1.0/25 both configured: the /25 is
// already announced, and its own halves cover it). Every address of a
// configured prefix then has a covering half one bit longer than the most
// specific configured prefix that covers it, so it beats whatever the pair
// normally announces for it.
//
// A /32 has no halves. The total stays within MaxAdvertised, since AWS
// resets a session that announces more: prefixes are taken in
// configuration order, both halves or none, while they fit. skipped lists
// the configured prefixes left without halves.
func returnPathPrefixes(advertise []netip.Prefix) (halves, skipped []netip.Prefix) {
	configured := make(map[netip.Prefix]bool, len(advertise))
	for _, p := range advertise {
		configured[p] = true
	}
	seen := make(map[netip.Prefix]bool)
	room := MaxAdvertised - len(advertise)
	for _, p := range advertise {
		if p.Bits() >= p.Addr().BitLen() {
			skipped = append(skipped, p)
			continue
		}
		lo, hi := split(p)
		var add []netip.Prefix
		for _, h := range []netip.Prefix{lo, hi} {
			if !configured[h] && !seen[h] {
				add = append(add, h)
			}
		}
		if len(add) > room {
			skipped = append(skipped, p)
			continue
		}
		for _, h := range add {
			seen[h] = true
			halves = append(halves, h)
		}
		room -= len(add)
	}
	return halves, skipped
}

// split returns p's two halves; p must be shorter than a host prefix.
func split(p netip.Prefix) (lo, hi netip.Prefix) {
	bits := p.Bits() + 1
	lo = netip.PrefixFrom(p.Addr(), bits)
	a := p.Addr().AsSlice()
	a[p.Bits()/8] |= 0x80 >> (p.Bits() % 8)
	hiAddr, _ := netip.AddrFromSlice(a)
	return lo, netip.PrefixFrom(hiAddr, bits)
}

// HoldReturnPath on makes the speaker announce, in addition to the
// configured prefixes, each one's two halves (10.0.1.0/24: 10.0.1.0/25 and
// 10.0.1.128/25) to AWS over every tunnel: with the tunnel's MED, never
// prepended whatever the VRRP role, never to the iBGP peer, and never into
// the kernel. AWS routes by longest prefix, so the halves draw the return
// traffic for the VLAN to this gateway at once, whatever stale routes of a
// dead peer AWS still holds. off withdraws them; the configured prefixes
// are untouched either way. Repeated calls with the same value do nothing.
//
// The gateway holds the return path when it becomes master because its
// peer went silent, and releases it when the peer is back;
// services/gateway/failover.go says when exactly, and why.
func (s *Speaker) HoldReturnPath(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == on {
		return
	}
	s.hold = on
	if on {
		s.holdSince = time.Now()
		s.log.Info("bgp holding the return path with more-specifics", "prefixes", len(s.halves), "without_halves", s.noHalves)
	} else {
		s.holdSince = time.Time{}
		s.log.Info("bgp releasing the return path: more-specifics withdrawn", "prefixes", len(s.halves))
	}
	if s.bgp == nil {
		return // announced by Run
	}
	if err := announceHalves(context.Background(), s.bgp, s.halves, on); err != nil {
		s.log.Error("bgp: return path more-specifics", "hold", on, "err", err)
	}
}

// announceHalves adds or withdraws the return-path prefixes. The export
// policy (see policies) sends them to the tunnels only.
func announceHalves(ctx context.Context, bs *bounded, halves []netip.Prefix, on bool) error {
	for _, p := range halves {
		var err error
		if on {
			err = call(ctx, bs, addPath, &api.AddPathRequest{Path: localPath(p)})
		} else {
			err = call(ctx, bs, (*server.BgpServer).DeletePath, &api.DeletePathRequest{
				Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
				Path:   localPath(p),
			})
		}
		if err != nil {
			return fmt.Errorf("%v: %w", p, err)
		}
	}
	return nil
}

// PeerGone gone makes the speaker ignore every path the iBGP peer sends,
// at once: they leave the RIB's best paths and the kernel without waiting
// for the iBGP hold timer (30 s against a dead peer), so forwarded traffic
// uses this gateway's own tunnels. The session itself stays configured and
// keeps running (its Adj-RIB-In is still filled, see Status.PeerAWSPaths),
// because a returning peer is recognised by what it sends. not gone uses
// the peer's paths again, re-applied from the kept Adj-RIB-In without a
// session reset. Repeated calls with the same value do nothing.
func (s *Speaker) PeerGone(gone bool) {
	if !s.cfg.ibgp() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.PeerGone == gone {
		return
	}
	s.st.PeerGone = gone
	ctx := context.Background()
	if gone {
		s.goneSince = time.Now()
		s.goneMsgs = 0
		if s.bgp != nil {
			// What the session has received so far: Status tells whether
			// anything came after.
			peers, _ := listPeers(ctx, s.bgp)
			if p := s.ibgpPeer(peers, s.knownPeer()); p != nil {
				s.goneMsgs = received(p)
			}
		}
	} else {
		s.goneSince = time.Time{}
	}
	s.log.Info("bgp iBGP peer", "peer", s.knownPeer(), "range", s.cfg.IBGPRange, "gone", gone)
	if s.bgp == nil {
		return // applied by Run
	}
	if err := call(ctx, s.bgp, (*server.BgpServer).SetPolicies, policies(s.cfg, s.st)); err != nil {
		s.log.Error("bgp: updating policies for the iBGP peer failed", "err", err)
		return
	}
	s.resetIBGPIn(ctx)
}
