package bgp

import (
	"context"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// Status is a snapshot of the speaker for the gateway's status page.
type Status struct {
	Running bool
	Master  bool
	Peers   []PeerStatus
	// RoutesInstalled is how many prefixes the speaker has in the kernel.
	RoutesInstalled int
	// AWSPaths is how many of them go to AWS over this gateway's tunnels.
	AWSPaths int
}

// PeerStatus is one BGP session.
type PeerStatus struct {
	Name    string // tunnel name, or "ibgp"
	Address string
	ASN     uint32
	State   string // idle, connect, active, opensent, openconfirm, established
	// AdminDown is set while the tunnel is reported down.
	AdminDown bool
	// Uptime is how long the session has been established (0 if not).
	Uptime time.Duration
	// Received counts prefixes received (before policy), Accepted those
	// accepted by import policy, Advertised those sent.
	Received, Accepted, Advertised uint64
}

// Status returns the current state of the sessions and the kernel routes.
func (s *Speaker) Status() Status {
	s.mu.Lock()
	bs, k, master := s.bgp, s.k, s.st.Master
	s.mu.Unlock()
	st := Status{Running: bs != nil, Master: master}
	if k != nil {
		st.RoutesInstalled, st.AWSPaths = k.counts()
	}
	if bs == nil {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	byAddr := make(map[string]PeerStatus)
	err := bs.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		ps := PeerStatus{
			Address:   p.GetConf().GetNeighborAddress(),
			ASN:       p.GetConf().GetPeerAsn(),
			State:     sessionState(p.GetState().GetSessionState()),
			AdminDown: p.GetState().GetAdminState() != api.PeerState_UP,
		}
		if p.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
			if up := p.GetTimers().GetState().GetUptime(); up != nil {
				ps.Uptime = time.Since(up.AsTime()).Truncate(time.Second)
			}
		}
		for _, af := range p.GetAfiSafis() {
			ps.Received += af.GetState().GetReceived()
			ps.Accepted += af.GetState().GetAccepted()
			ps.Advertised += af.GetState().GetAdvertised()
		}
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
	if s.cfg.IBGPPeer.IsValid() {
		add(s.cfg.IBGPPeer.String(), "ibgp")
	}
	return st
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
