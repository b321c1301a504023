package bgp

import (
	"context"
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// The iBGP peer when its address is not configured (Config.IBGPRange).
//
// The site YAML may leave out the gateways' vlan_address: each gateway then
// takes its own from the Linode Metadata Service, which tells it nothing
// about its peer. The session still comes up:
//
//   - The speaker accepts an iBGP session from any address of the range, as
//     a GoBGP dynamic neighbour (a peer group and a dynamic-neighbour
//     prefix). A dynamic neighbour is passive, so a peer that knows our
//     address, FRR configured as in the seed or a tidegate that learned it,
//     brings the session up.
//   - SetIBGPPeer, once the gateway has learned the peer's address (from
//     the VRRP master's adverts while it is backup), configures the peer as
//     an ordinary, active neighbour, so two tidegates that know nothing of
//     each other at boot meet as soon as one of them has heard the other.
//
// Everything iBGP does is keyed on the range rather than one address: the
// policies' neighbour set holds the prefix, kernel next hops of paths from
// any address of the range use the VLAN device, and PeerGone, Status and
// PeerBack look at whichever iBGP session exists.
//
// GoBGP keeps one neighbour per address. When the peer's dynamic session
// from that very address is already up, configuring it would need that
// session torn down, and the pair would lose its iBGP routes for a moment
// for nothing; the learned neighbour is configured instead when that
// session ends (or at once if it never came up).

// peerGroupIBGP is the GoBGP peer group of the iBGP range.
const peerGroupIBGP = "tg-ibgp"

// acceptRange lets GoBGP accept an iBGP session from any address of
// Config.IBGPRange.
func (s *Speaker) acceptRange(ctx context.Context, bs *bounded) error {
	pc := s.peerConf(netip.IPv4Unspecified(), s.cfg.ASN, s.cfg.RouterID, "ibgp", false)
	// A dynamic neighbour takes its whole configuration from the group,
	// passive mode included; it answers with the address it was called on.
	pc.Transport.PassiveMode = true
	pc.Transport.LocalAddress = ""
	err := call(ctx, bs, (*server.BgpServer).AddPeerGroup, &api.AddPeerGroupRequest{PeerGroup: &api.PeerGroup{
		Conf: &api.PeerGroupConf{
			PeerGroupName: peerGroupIBGP, PeerAsn: s.cfg.ASN, Description: "ibgp",
			AuthPassword: s.cfg.IBGPPassword,
		},
		Timers:      pc.Timers,
		Transport:   pc.Transport,
		AfiSafis:    pc.AfiSafis,
		TtlSecurity: pc.TtlSecurity,
	}})
	if err != nil {
		return fmt.Errorf("bgp: iBGP peer group: %w", err)
	}
	err = call(ctx, bs, (*server.BgpServer).AddDynamicNeighbor, &api.AddDynamicNeighborRequest{DynamicNeighbor: &api.DynamicNeighbor{
		Prefix: s.cfg.IBGPRange.String(), PeerGroup: peerGroupIBGP,
	}})
	if err != nil {
		return fmt.Errorf("bgp: accept iBGP from %v: %w", s.cfg.IBGPRange, err)
	}
	return nil
}

// SetIBGPPeer tells the speaker the iBGP peer's address when it was not
// configured (Config.IBGPRange): the speaker then connects to it, as to a
// configured peer, besides accepting its connections. A new address
// replaces the previous one (its session is closed); the same address
// again does nothing. It is refused with a configured IBGPPeer, without an
// IBGPRange, or for an address outside the range or our own.
func (s *Speaker) SetIBGPPeer(addr netip.Addr) error {
	switch {
	case s.cfg.IBGPPeer.IsValid():
		return fmt.Errorf("bgp: iBGP peer %v: configured already (%v)", addr, s.cfg.IBGPPeer)
	case !s.cfg.IBGPRange.IsValid():
		return fmt.Errorf("bgp: iBGP peer %v: no iBGP range configured", addr)
	case !s.cfg.IBGPRange.Contains(addr):
		return fmt.Errorf("bgp: iBGP peer %v: outside the iBGP range %v", addr, s.cfg.IBGPRange)
	case addr == s.cfg.RouterID:
		return fmt.Errorf("bgp: iBGP peer %v: is our own router ID", addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.learned == addr {
		return nil
	}
	old, oldAdded := s.learned, s.learnedAdded
	s.learned, s.learnedAdded = addr, false
	s.log.Info("bgp iBGP peer learned", "peer", addr, "previous", old)
	if s.bgp == nil {
		return nil // configured by Run
	}
	ctx := context.Background()
	if oldAdded {
		if err := call(ctx, s.bgp, (*server.BgpServer).DeletePeer, &api.DeletePeerRequest{Address: old.String()}); err != nil {
			s.log.Warn("bgp: removing the previous iBGP peer", "peer", old, "err", err)
		}
	}
	s.addLearned(ctx, s.bgp)
	return nil
}

// addLearned configures the learned iBGP peer unless it is already, or
// unless the peer's own session from that address is up (see above); a
// dynamic neighbour at that address that is not established is replaced.
// Failures are retried by Run. The caller holds s.mu.
func (s *Speaker) addLearned(ctx context.Context, bs *bounded) {
	if !s.learned.IsValid() || s.learnedAdded {
		return
	}
	addr := s.learned.String()
	var have *api.Peer
	if err := bs.ListPeer(ctx, &api.ListPeerRequest{Address: addr}, func(p *api.Peer) { have = p }); err != nil {
		s.log.Debug("bgp: list the iBGP peer", "peer", addr, "err", err)
	}
	if have != nil {
		if have.GetConf().GetNeighborAddress() != "" {
			s.learnedAdded = true // configured (by an earlier call)
			return
		}
		if have.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
			s.log.Debug("bgp: the learned iBGP peer's session is up already; configuring it when that ends", "peer", addr)
			return
		}
		if err := call(ctx, bs, (*server.BgpServer).DeletePeer, &api.DeletePeerRequest{Address: addr}); err != nil {
			s.log.Debug("bgp: removing the iBGP peer's unestablished session", "peer", addr, "err", err)
			return
		}
	}
	if err := call(ctx, bs, (*server.BgpServer).AddPeer, &api.AddPeerRequest{Peer: s.peerConf(s.learned, s.cfg.ASN, s.cfg.RouterID, "ibgp", false)}); err != nil {
		s.log.Warn("bgp: configuring the learned iBGP peer", "peer", addr, "err", err)
		return
	}
	s.learnedAdded = true
	s.log.Info("bgp iBGP peer configured", "peer", addr)
}

// tendIBGPPeer configures a learned iBGP peer that had to wait, or renews
// the iBGP neighbour, configured or learned, when it is idle.
//
// GoBGP keeps a neighbour idle for 5 s after any failed or closed session
// and refuses connections meanwhile. Two tidegates that both configured
// the other (given in the site, or each learned the other's address in
// turn) can then lock in step: each one's connection arrives while the
// other sits out its idle time after the previous attempt, for ever (seen
// in TestPairLearnsPeer). A neighbour configured afresh starts with no
// idle time, so an idle one is replaced: it accepts at once and connects
// at the pace of the connect retry.
func (s *Speaker) tendIBGPPeer(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bgp == nil {
		return
	}
	if s.learned.IsValid() && !s.learnedAdded {
		s.addLearned(ctx, s.bgp)
		return
	}
	known := s.knownPeer()
	if !known.IsValid() {
		return
	}
	addr := known.String()
	idle := false
	_ = s.bgp.ListPeer(ctx, &api.ListPeerRequest{Address: addr}, func(p *api.Peer) {
		idle = p.GetConf().GetNeighborAddress() != "" && p.GetState().GetSessionState() == api.PeerState_IDLE &&
			p.GetState().GetAdminState() == api.PeerState_UP
	})
	if !idle {
		return
	}
	if err := call(ctx, s.bgp, (*server.BgpServer).DeletePeer, &api.DeletePeerRequest{Address: addr}); err != nil {
		s.log.Debug("bgp: renewing the idle iBGP peer", "peer", addr, "err", err)
		return
	}
	s.log.Debug("bgp: renewing the idle iBGP peer", "peer", addr)
	if s.cfg.IBGPPeer.IsValid() {
		if err := call(ctx, s.bgp, (*server.BgpServer).AddPeer, &api.AddPeerRequest{Peer: s.peerConf(known, s.cfg.ASN, s.cfg.RouterID, "ibgp", false)}); err != nil {
			s.log.Error("bgp: renewing the iBGP peer", "peer", addr, "err", err)
		}
		return
	}
	s.learnedAdded = false
	s.addLearned(ctx, s.bgp)
}

// peerName is the name of the neighbour at addr for logs and Status: the
// tunnel's, or "ibgp".
func (s *Speaker) peerName(addr string) string {
	if p, ok := s.peers[addr]; ok {
		return p.Name
	}
	if a, err := netip.ParseAddr(addr); err == nil && s.cfg.isIBGP(a) {
		return "ibgp"
	}
	return ""
}

// ibgpPeer picks the current iBGP session out of peers (a ListPeer): the
// one at known (the configured or learned address, s.knownPeer) if it is
// established, else any established one from the range, else the one at
// known whatever its state, else any from the range; nil when there is
// none (a range, nobody connected and nothing learned).
func (s *Speaker) ibgpPeer(peers []*api.Peer, known netip.Addr) *api.Peer {
	rank := func(p *api.Peer) int {
		r := 0
		if p.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
			r += 2
		}
		if p.GetState().GetNeighborAddress() == known.String() {
			r++
		}
		return r
	}
	var best *api.Peer
	for _, p := range peers {
		if s.peerName(p.GetState().GetNeighborAddress()) != "ibgp" {
			continue
		}
		if best == nil || rank(p) > rank(best) {
			best = p
		}
	}
	return best
}

// listPeers returns GoBGP's neighbours, without advertised counts.
func listPeers(ctx context.Context, bs *bounded) ([]*api.Peer, error) {
	var all []*api.Peer
	err := bs.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) { all = append(all, p) })
	return all, err
}

// knownPeer is the configured or learned iBGP peer address, if any. The
// caller holds s.mu.
func (s *Speaker) knownPeer() netip.Addr {
	if s.cfg.IBGPPeer.IsValid() {
		return s.cfg.IBGPPeer
	}
	return s.learned
}

// resetIBGPIn re-applies the import policy to every iBGP session from its
// Adj-RIB-In (a soft reset in). The caller holds s.mu.
func (s *Speaker) resetIBGPIn(ctx context.Context) {
	peers, _ := listPeers(ctx, s.bgp)
	for _, p := range peers {
		a := p.GetState().GetNeighborAddress()
		if s.peerName(a) != "ibgp" {
			continue
		}
		err := call(ctx, s.bgp, (*server.BgpServer).ResetPeer, &api.ResetPeerRequest{Address: a, Soft: true, Direction: api.ResetPeerRequest_IN})
		if err != nil {
			// The session is not established: there is nothing to
			// re-apply, and paths it sends later meet the new policy.
			s.log.Debug("soft reset in", "peer", a, "err", err)
		}
	}
}

// received is the total of messages p has received.
func received(p *api.Peer) uint64 { return p.GetState().GetMessages().GetReceived().GetTotal() }
