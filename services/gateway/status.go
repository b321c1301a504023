package gateway

import (
	"maps"
	"time"

	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/vrrp"
)

// Status returns a snapshot of the gateway and its services: the status
// API's document (package status), without the kernel routes, which the
// status server adds. It is copied out of the services' own Status values
// and holds no secret (no pre-shared key, no VRRP password). Durations are
// in seconds.
func (g *Gateway) Status() status.Document {
	g.mu.Lock()
	role, svcs := g.role, g.svcs
	st := status.Document{
		Time:          time.Now(),
		Version:       g.o.Version,
		Mode:          mode(g.o),
		Phase:         g.phase,
		Boot:          g.boot.snapshot(),
		Started:       g.started,
		UptimeSeconds: time.Since(g.started).Seconds(),
		Error:         g.err,
		ConfigErrors:  g.configErrors,
	}
	g.mu.Unlock()
	if role != nil {
		st.Gateway, st.Site = role.Self.Name, role.Site.Site
		if p, err := role.Site.Peer(role.Self.Name); err == nil {
			st.Peer = p.Name
		}
		st.VLANAddress = role.VLANAddress.String()
		if role.PublicAddress.IsValid() {
			st.PublicAddress = role.PublicAddress.String()
		}
	}
	if svcs != nil {
		h := svcs.w.snapshot()
		st.Health = &h
		st.IPsec = ipsecStatus(svcs.sec.Status())
		st.BGP = bgpStatus(svcs.bgp.Status())
		st.VRRP = vrrpStatus(svcs.vrrp.Status())
		if svcs.peerVRRP != nil {
			st.PeerVRRP = vrrpStatus(svcs.peerVRRP.Status())
		}
	}
	if g.o.Firewall {
		st.Firewall = firewallStatus(firewallCounters)
	}
	st.Syslog = g.syslogStatus()
	return st
}

// firewallCounters reads the packet filter's counters; the tests replace it.
var firewallCounters = firewall.Counters

// firewallStatus is the packet filter's drops, every class named (0 when
// none), or nil while there is no table to read: before the boot table
// went in, or when installing it failed (the phase and the error say so;
// an error here would only repeat it at every scrape).
func firewallStatus(counters func() (map[string]uint64, error)) *status.Firewall {
	c, err := counters()
	if err != nil {
		return nil
	}
	out := &status.Firewall{Dropped: make(map[string]uint64, len(firewall.Drops))}
	for _, name := range firewall.Drops {
		out.Dropped[name] = c[name]
	}
	return out
}

func ipsecStatus(s ipsec.Status) *status.IPsec {
	out := &status.IPsec{
		CharonRunning:  s.Charon.Running,
		CharonPID:      s.Charon.PID,
		CharonVersion:  s.Charon.Version,
		CharonStarted:  s.Charon.Started,
		CharonRestarts: s.Charon.Restarts,
		NetworkError:   s.Network,
		Tunnels:        []status.Tunnel{},
	}
	for _, t := range s.Tunnels {
		out.Tunnels = append(out.Tunnels, status.Tunnel{
			Name: t.Name, Remote: t.Remote, Interface: t.Interface,
			Up: t.Up, Reason: t.Reason, Since: t.Since,
			IKEState: t.IKEState, ChildState: t.ChildState, Established: t.Established,
			IKEProposal: t.IKEProposal, ESPProposal: t.ESPProposal,
			BytesIn: t.BytesIn, BytesOut: t.BytesOut, PacketsIn: t.PacketsIn, PacketsOut: t.PacketsOut,
			IKERekeys: t.IKERekeys, ChildRekeys: t.ChildRekeys, LastEvent: t.LastEvent,
		})
	}
	return out
}

func bgpStatus(s bgp.Status) *status.BGP {
	out := &status.BGP{
		Running: s.Running, Master: s.Master,
		RoutesInstalled: s.RoutesInstalled, AWSPaths: s.AWSPaths,
		MaxPrefixes: s.MaxPrefixes,
		Peers:       []status.Peer{},
	}
	if s.ReturnPathHeld {
		rp := &status.ReturnPath{Since: s.ReturnPathSince, PeerIgnored: s.PeerGone, PeerIgnoredSince: s.PeerGoneSince}
		for _, p := range s.ReturnPathPrefixes {
			rp.Prefixes = append(rp.Prefixes, p.String())
		}
		out.ReturnPath = rp
	}
	for _, p := range s.Peers {
		out.Peers = append(out.Peers, status.Peer{
			Name: p.Name, Address: p.Address, ASN: p.ASN, State: p.State, AdminDown: p.AdminDown,
			UptimeSeconds: p.Uptime.Seconds(),
			Established:   p.Established,
			Received:      p.Received, Accepted: p.Accepted, Advertised: p.Advertised,
			Rejected:           rejected(p.Rejected),
			MaxPrefixTeardowns: p.MaxPrefixTeardowns,
			RetryAt:            p.RetryAt,
		})
	}
	return out
}

// rejected is a neighbour's rejected routes by reason, every reason of the
// import filter named (0 when none), so that monitoring sees the same keys
// and series from the start.
func rejected(m map[bgp.Reason]int) map[string]int {
	out := make(map[string]int, len(bgp.Reasons))
	for _, r := range bgp.Reasons {
		out[string(r)] = 0
	}
	for r, n := range m {
		out[string(r)] = n
	}
	return out
}

func vrrpStatus(s vrrp.Status) *status.VRRP {
	out := &status.VRRP{
		VRID:  s.VRID,
		State: s.State.String(), Resigning: s.Resigning,
		Priority: s.Priority, EffectivePriority: s.EffectivePriority,
		Tracks:         maps.Clone(s.Tracks),
		MasterPriority: s.MasterPriority,
		VirtualIPs:     []string{},
		Transitions:    s.Transitions,
		LastChange:     string(s.LastChange.Reason),
		LastChangeAt:   s.LastChange.Time,
		AdvertsSent:    s.AdvertsSent, AdvertsReceived: s.AdvertsReceived,
	}
	if s.MasterAddr.IsValid() {
		out.MasterAddress = s.MasterAddr.String()
	}
	if s.Peer.IsValid() {
		out.PeerAddress, out.PeerLearned = s.Peer.String(), s.PeerLearned
	}
	for _, p := range s.VirtualIPs {
		out.VirtualIPs = append(out.VirtualIPs, p.String())
	}
	// Every reason, at 0 when none: each metric series exists from the
	// first scrape, so an alert on the rate of "peer" drops can fire on
	// the first rogue advert.
	out.Drops = make(map[string]uint64, len(vrrp.DropReasons))
	for _, r := range vrrp.DropReasons {
		out.Drops[string(r)] = s.Drops[r]
	}
	for r, n := range s.Drops {
		out.Drops[string(r)] = n
	}
	return out
}
