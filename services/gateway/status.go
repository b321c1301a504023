package gateway

import (
	"maps"
	"time"

	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

// Status is a snapshot of the whole gateway for the status API: plain data
// with JSON tags, copied out of the services' own Status values. It holds no
// secrets (no pre-shared key, no VRRP password). Durations are in seconds.
type Status struct {
	Version       string    `json:"version"`
	Mode          string    `json:"mode"`              // appliance or standalone
	Phase         string    `json:"phase"`             // see the Phase constants
	Gateway       string    `json:"gateway,omitempty"` // this gateway's name (its Linode label); "" until configured
	Site          string    `json:"site,omitempty"`
	Peer          string    `json:"peer,omitempty"`
	VLANAddress   string    `json:"vlan_address,omitempty"`
	PublicAddress string    `json:"public_address,omitempty"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`  // of the gateway process
	Error         string    `json:"error,omitempty"` // why the gateway stopped, when it failed
	// ConfigErrors are the user data's problems while the gateway waits
	// for a valid site configuration, one per line (key path and line).
	ConfigErrors []string `json:"config_errors,omitempty"`

	Health *HealthStatus `json:"health,omitempty"`
	IPsec  *IPsecStatus  `json:"ipsec,omitempty"`
	BGP    *BGPStatus    `json:"bgp,omitempty"`
	VRRP   *VRRPStatus   `json:"vrrp,omitempty"`
}

// HealthStatus is what the gateway makes of the services' events.
type HealthStatus struct {
	// Healthy is false while the gateway has no working path to AWS; its
	// VRRP priority is then lowered by VRRPWeight's magnitude.
	Healthy    bool `json:"healthy"`
	AWSPaths   int  `json:"aws_paths"`
	TunnelsUp  int  `json:"tunnels_up"`
	VRRPWeight int  `json:"vrrp_weight"`
	// VRRPMaster is the role last given to BGP (false: prepending).
	VRRPMaster bool `json:"vrrp_master"`
}

// IPsecStatus is the IPsec service: charon and one entry per tunnel.
type IPsecStatus struct {
	CharonRunning  bool           `json:"charon_running"`
	CharonPID      int            `json:"charon_pid,omitempty"`
	CharonVersion  string         `json:"charon_version,omitempty"`
	CharonStarted  time.Time      `json:"charon_started,omitzero"`
	CharonRestarts int            `json:"charon_restarts"`
	NetworkError   string         `json:"network_error,omitempty"`
	Tunnels        []TunnelStatus `json:"tunnels"`
}

// TunnelStatus is one IPsec tunnel.
type TunnelStatus struct {
	Name        string    `json:"name"`
	Remote      string    `json:"remote"`
	Interface   string    `json:"interface"`
	Up          bool      `json:"up"`
	Reason      string    `json:"reason,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	IKEState    string    `json:"ike_state,omitempty"`
	ChildState  string    `json:"child_state,omitempty"`
	Established time.Time `json:"established,omitzero"`
	IKEProposal string    `json:"ike_proposal,omitempty"`
	ESPProposal string    `json:"esp_proposal,omitempty"`
	BytesIn     uint64    `json:"bytes_in"`
	BytesOut    uint64    `json:"bytes_out"`
	PacketsIn   uint64    `json:"packets_in"`
	PacketsOut  uint64    `json:"packets_out"`
	IKERekeys   int       `json:"ike_rekeys"`
	ChildRekeys int       `json:"child_rekeys"`
	LastEvent   string    `json:"last_event,omitempty"`
}

// BGPStatus is the BGP speaker: one entry per session.
type BGPStatus struct {
	Running         bool         `json:"running"`
	Master          bool         `json:"master"` // false: prepending toward AWS
	RoutesInstalled int          `json:"routes_installed"`
	AWSPaths        int          `json:"aws_paths"`
	Peers           []PeerStatus `json:"peers"`
	// ReturnPath is set while this gateway holds the return path from AWS
	// with more-specifics after its peer went silent (failover.go).
	ReturnPath *ReturnPathStatus `json:"return_path,omitempty"`
}

// ReturnPathStatus says since when and with which prefixes this gateway
// draws AWS's return traffic, and whether it ignores the peer's paths.
type ReturnPathStatus struct {
	Since            time.Time `json:"since"`
	Prefixes         []string  `json:"prefixes"`
	PeerIgnored      bool      `json:"peer_ignored"`
	PeerIgnoredSince time.Time `json:"peer_ignored_since,omitempty"`
}

// PeerStatus is one BGP session (a tunnel's, or "ibgp").
type PeerStatus struct {
	Name          string  `json:"name"`
	Address       string  `json:"address"`
	ASN           uint32  `json:"asn"`
	State         string  `json:"state"`
	AdminDown     bool    `json:"admin_down"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Received      uint64  `json:"received"`
	Accepted      uint64  `json:"accepted"`
	Advertised    uint64  `json:"advertised"`
}

// VRRPStatus is the VRRP router.
type VRRPStatus struct {
	State             string            `json:"state"` // initialize, backup, master
	Resigning         bool              `json:"resigning"`
	Priority          uint8             `json:"priority"`
	EffectivePriority uint8             `json:"effective_priority"`
	Tracks            map[string]int    `json:"tracks,omitempty"`
	MasterAddress     string            `json:"master_address,omitempty"`
	MasterPriority    uint8             `json:"master_priority"`
	VirtualIPs        []string          `json:"virtual_ips"`
	Transitions       uint64            `json:"transitions"`
	LastChange        string            `json:"last_change,omitempty"` // its reason
	LastChangeAt      time.Time         `json:"last_change_at,omitzero"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Drops             map[string]uint64 `json:"drops,omitempty"`
}

// Status returns a snapshot of the gateway and its services.
func (g *Gateway) Status() Status {
	g.mu.Lock()
	role, svcs := g.role, g.svcs
	st := Status{
		Version:       g.o.Version,
		Mode:          mode(g.o),
		Phase:         g.phase,
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
	}
	return st
}

func ipsecStatus(s ipsec.Status) *IPsecStatus {
	out := &IPsecStatus{
		CharonRunning:  s.Charon.Running,
		CharonPID:      s.Charon.PID,
		CharonVersion:  s.Charon.Version,
		CharonStarted:  s.Charon.Started,
		CharonRestarts: s.Charon.Restarts,
		NetworkError:   s.Network,
		Tunnels:        []TunnelStatus{},
	}
	for _, t := range s.Tunnels {
		out.Tunnels = append(out.Tunnels, TunnelStatus{
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

func bgpStatus(s bgp.Status) *BGPStatus {
	out := &BGPStatus{
		Running: s.Running, Master: s.Master,
		RoutesInstalled: s.RoutesInstalled, AWSPaths: s.AWSPaths,
		Peers: []PeerStatus{},
	}
	if s.ReturnPathHeld {
		rp := &ReturnPathStatus{Since: s.ReturnPathSince, PeerIgnored: s.PeerGone, PeerIgnoredSince: s.PeerGoneSince}
		for _, p := range s.ReturnPathPrefixes {
			rp.Prefixes = append(rp.Prefixes, p.String())
		}
		out.ReturnPath = rp
	}
	for _, p := range s.Peers {
		out.Peers = append(out.Peers, PeerStatus{
			Name: p.Name, Address: p.Address, ASN: p.ASN, State: p.State, AdminDown: p.AdminDown,
			UptimeSeconds: p.Uptime.Seconds(),
			Received:      p.Received, Accepted: p.Accepted, Advertised: p.Advertised,
		})
	}
	return out
}

func vrrpStatus(s vrrp.Status) *VRRPStatus {
	out := &VRRPStatus{
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
	for _, p := range s.VirtualIPs {
		out.VirtualIPs = append(out.VirtualIPs, p.String())
	}
	if len(s.Drops) > 0 {
		out.Drops = make(map[string]uint64, len(s.Drops))
		for r, n := range s.Drops {
			out.Drops[string(r)] = n
		}
	}
	return out
}
