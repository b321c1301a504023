package bgp

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// Status is a snapshot of the speaker for the gateway's status page.
type Status struct {
	Running bool
	Master  bool
	Peers   []PeerStatus
	// MaxPrefixes is how many prefixes one neighbour may send.
	MaxPrefixes int
	// RoutesInstalled is how many prefixes the speaker has in the kernel.
	RoutesInstalled int
	// AWSPaths is how many of them go to AWS over this gateway's tunnels.
	AWSPaths int

	// ReturnPathHeld is set while HoldReturnPath has this gateway announce
	// the more-specifics (ReturnPathPrefixes) to AWS, since
	// ReturnPathSince.
	ReturnPathHeld     bool
	ReturnPathSince    time.Time
	ReturnPathPrefixes []netip.Prefix
	// PeerGone is set while the iBGP peer's paths are ignored (PeerGone),
	// since PeerGoneSince. The session itself keeps running: see the
	// "ibgp" entry of Peers, whose counts are taken before the import
	// policy that now ignores it.
	PeerGone      bool
	PeerGoneSince time.Time
	// PeerAWSPaths is how many prefixes the iBGP peer sends that it
	// learned from AWS (a non-empty AS path), counted before our import
	// policy and so also while PeerGone. Above zero, the peer's session is
	// up and so is at least one of its tunnels: the peer is back.
	PeerAWSPaths int
	// PeerBack is set, while PeerGone, once the iBGP peer has been heard
	// from since PeerGone(true) (a new session, or any message on the old
	// one: a dead peer's session is only kept by the hold timer) and
	// PeerAWSPaths is above zero. It is the BGP half of "the peer is
	// back": alive, reachable over the VLAN, and with a tunnel up.
	PeerBack bool
}

// PeerStatus is one BGP session.
type PeerStatus struct {
	Name    string // tunnel name, or "ibgp"
	Address string
	ASN     uint32
	State   string // idle, connect, active, opensent, openconfirm, established
	// AdminDown is set while the tunnel is reported down (TunnelDown).
	// PeerGone does not shut the iBGP session: see Status.PeerGone.
	AdminDown bool
	// Uptime is how long the session has been established (0 if not),
	// and Established since when (zero if not).
	Uptime      time.Duration
	Established time.Time
	// Received counts prefixes received, Accepted those not rejected by
	// the session itself (AS loops and the like; our import policy comes
	// after and is not counted), Advertised those sent.
	Received, Accepted, Advertised uint64
	// Rejected counts the routes the neighbour sends now that the import
	// filter refuses, by reason (filter.go); nil when there are none.
	Rejected map[Reason]int
	// MaxPrefixTeardowns counts the times the session was torn down for
	// sending more than MaxPrefixes; while RetryAt is set, it waits for
	// its back-off to end then (maxprefix.go).
	MaxPrefixTeardowns uint64
	RetryAt            time.Time
}

// Status returns the current state of the sessions and the kernel routes.
func (s *Speaker) Status() Status {
	s.mu.Lock()
	bs, k := s.bgp, s.k
	st := Status{
		Running:         bs != nil,
		Master:          s.st.Master,
		ReturnPathHeld:  s.hold,
		ReturnPathSince: s.holdSince,
		PeerGone:        s.st.PeerGone,
		PeerGoneSince:   s.goneSince,
		MaxPrefixes:     s.cfg.MaxPrefixes,
	}
	maxPrefix := maps.Clone(s.maxPrefix)
	if s.hold {
		st.ReturnPathPrefixes = slices.Clone(s.halves)
	}
	known := s.knownPeer()
	s.mu.Unlock()
	if k != nil {
		st.RoutesInstalled, st.AWSPaths = k.counts()
	}
	if bs == nil {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	byAddr := make(map[string]PeerStatus)
	var all []*api.Peer
	err := bs.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		all = append(all, p)
		ps := peerStatus(p)
		if ps.Received > 0 {
			if r := s.countRejected(ctx, bs, p); len(r) > 0 {
				ps.Rejected = r
			}
		}
		mp := maxPrefix[ps.Address]
		ps.MaxPrefixTeardowns, ps.RetryAt = mp.Trips, mp.RetryAt
		byAddr[ps.Address] = ps
	})
	if err != nil {
		s.log.Debug("bgp status: list peers", "err", err)
	}
	// Configuration order: tunnels, then the iBGP peer.
	add := func(addr, name string) {
		ps, ok := byAddr[addr]
		if !ok {
			ps = PeerStatus{Address: addr, State: "unknown"}
		}
		ps.Name = name
		st.Peers = append(st.Peers, ps)
	}
	for _, t := range s.cfg.Tunnels {
		add(t.Remote.String(), t.Name)
	}
	if !s.cfg.ibgp() {
		return st
	}
	ib := s.ibgpPeer(all, known)
	switch {
	case ib == nil && s.cfg.IBGPPeer.IsValid():
		add(s.cfg.IBGPPeer.String(), "ibgp")
		return st
	case ib == nil:
		// A range, nobody connected and no address learned: the speaker
		// waits for the peer (as a passive neighbour's state says).
		st.Peers = append(st.Peers, PeerStatus{Name: "ibgp", Address: s.cfg.IBGPRange.String(), ASN: s.cfg.ASN, State: "active"})
		return st
	}
	ps := byAddr[ib.GetState().GetNeighborAddress()]
	ps.Name = "ibgp"
	st.Peers = append(st.Peers, ps)
	st.PeerAWSPaths = s.peerAWSPaths(ctx, bs, ps.Address)
	st.PeerBack = st.PeerGone && s.heardSince(ib, st.PeerGoneSince) && st.PeerAWSPaths > 0
	return st
}

// peerBackTimeout bounds PeerBack's calls into GoBGP: it is asked every
// second from the gateway's event loop, which must not stall behind a
// GoBGP busy with a flood of UPDATEs.
const peerBackTimeout = 2 * time.Second

// PeerBack is Status().PeerBack without the rest of Status: only the iBGP
// session and what it carries are looked at, so it stays cheap while the
// tunnels carry thousands of routes. It is false whenever GoBGP does not
// answer within peerBackTimeout (ask again later).
func (s *Speaker) PeerBack() bool {
	s.mu.Lock()
	bs, gone, since, known := s.bgp, s.st.PeerGone, s.goneSince, s.knownPeer()
	s.mu.Unlock()
	if bs == nil || !gone || !s.cfg.ibgp() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerBackTimeout)
	defer cancel()
	all, err := listPeers(ctx, bs)
	if err != nil {
		return false
	}
	ib := s.ibgpPeer(all, known)
	if ib == nil || !s.heardSince(ib, since) {
		return false
	}
	return s.peerAWSPaths(ctx, bs, ib.GetState().GetNeighborAddress()) > 0
}

// peerStatus is one neighbour's PeerStatus, without its name.
func peerStatus(p *api.Peer) PeerStatus {
	ps := PeerStatus{
		Address:   p.GetState().GetNeighborAddress(),
		ASN:       p.GetConf().GetPeerAsn(),
		State:     sessionState(p.GetState().GetSessionState()),
		AdminDown: p.GetState().GetAdminState() != api.PeerState_UP,
	}
	if p.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
		if up := p.GetTimers().GetState().GetUptime(); up != nil {
			ps.Established = up.AsTime()
			ps.Uptime = time.Since(ps.Established).Truncate(time.Second)
		}
	}
	for _, af := range p.GetAfiSafis() {
		ps.Received += af.GetState().GetReceived()
		ps.Accepted += af.GetState().GetAccepted()
		ps.Advertised += af.GetState().GetAdvertised()
	}
	return ps
}

// heardSince reports whether the established session p has received a
// message since t: it came up after t, or its received-message count has
// grown since PeerGone(true) recorded it.
func (s *Speaker) heardSince(p *api.Peer, t time.Time) bool {
	if p.GetState().GetSessionState() != api.PeerState_ESTABLISHED {
		return false
	}
	if up := p.GetTimers().GetState().GetUptime(); up != nil && up.AsTime().After(t) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return received(p) > s.goneMsgs
}

// peerAWSPaths counts the prefixes in the iBGP peer's Adj-RIB-In that have
// an AS path: routes it learned from AWS, which it only sends while it has
// them over its own tunnels (iBGP routes are not passed on to iBGP peers,
// and its own prefixes have an empty AS path).
func (s *Speaker) peerAWSPaths(ctx context.Context, bs *bounded, addr string) int {
	n := 0
	err := bs.ListPath(ctx, &api.ListPathRequest{
		TableType: api.TableType_ADJ_IN,
		Name:      addr,
		Family:    &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
	}, func(d *api.Destination) {
		for _, p := range d.Paths {
			if !p.IsWithdraw && hasASPath(p) {
				n++
				return
			}
		}
	})
	if err != nil {
		s.log.Debug("bgp status: list the iBGP peer's paths", "err", err)
	}
	return n
}

func hasASPath(p *api.Path) bool {
	for _, a := range p.Pattrs {
		var as api.AsPathAttribute
		if a.MessageIs(&as) && a.UnmarshalTo(&as) == nil {
			for _, seg := range as.Segments {
				if len(seg.Numbers) > 0 {
					return true
				}
			}
		}
	}
	return false
}

func sessionState(st api.PeerState_SessionState) string {
	switch st {
	case api.PeerState_IDLE:
		return "idle"
	case api.PeerState_CONNECT:
		return "connect"
	case api.PeerState_ACTIVE:
		return "active"
	case api.PeerState_OPENSENT:
		return "opensent"
	case api.PeerState_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_ESTABLISHED:
		return "established"
	}
	return "unknown"
}
