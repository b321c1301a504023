package status

import "time"

// Document is what GET /status returns: a snapshot of one gateway, filled
// by services/gateway (which imports this package, not the other way
// round) and by the status server itself: the snapshot's time and the
// kernel routes. Durations are in seconds; times are RFC 3339.
//
// It has no field that could hold a secret.
type Document struct {
	// Time is when the snapshot was taken, by the gateway's clock; the
	// tables compute "up for" and "since" from it, so that a document
	// renders the same wherever and whenever it is read.
	Time time.Time `json:"time"`

	Version       string    `json:"version"`
	Mode          string    `json:"mode"`              // appliance or standalone
	Phase         string    `json:"phase"`             // starting, configuring, running, stopping, stopped, failed
	Gateway       string    `json:"gateway,omitempty"` // the gateway's name (its Linode label); "" until configured
	Site          string    `json:"site,omitempty"`
	Peer          string    `json:"peer,omitempty"`
	VLANAddress   string    `json:"vlan_address,omitempty"`
	PublicAddress string    `json:"public_address,omitempty"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`  // of the gateway process
	Error         string    `json:"error,omitempty"` // why the gateway stopped, when it failed
	// ConfigErrors are the problems with the site configuration the gateway
	// is waiting on (phase configuring), one per entry, each naming the key
	// path and line.
	ConfigErrors []string `json:"config_errors,omitempty"`
	// Boot is the boot timeline: each step from power-on to a working
	// gateway and when it happened, in seconds since the kernel booted
	// (package gateway's timeline.go lists the steps).
	Boot []Milestone `json:"boot,omitempty"`

	Health *Health `json:"health,omitempty"`
	IPsec  *IPsec  `json:"ipsec,omitempty"`
	BGP    *BGP    `json:"bgp,omitempty"`
	VRRP   *VRRP   `json:"vrrp,omitempty"`
	// PeerVRRP is, in an active-active pair, the router of the peer's
	// virtual IP (this gateway its backup while the peer is well).
	PeerVRRP *VRRP     `json:"peer_vrrp,omitempty"`
	Firewall *Firewall `json:"firewall,omitempty"` // absent without a packet filter (standalone) or while it is not installed
	Syslog   *Syslog   `json:"syslog,omitempty"`   // absent without a remote syslog receiver in the site configuration

	// Routes are the routes BGP installed in the kernel's main table, as
	// the kernel has them, in prefix order: all of them, or the first
	// MaxRoutes when there are more.
	Routes []Route `json:"routes,omitempty"`
	// RoutesTotal is how many routes BGP installed, listed or not. A
	// document from a server older than the field has 0 here: readers take
	// the larger of it and len(Routes).
	RoutesTotal int `json:"routes_total"`
	// RoutesTruncated says that Routes holds only the first MaxRoutes of
	// RoutesTotal.
	RoutesTruncated bool `json:"routes_truncated,omitempty"`
	// RoutesError says why Routes could not be read.
	RoutesError string `json:"routes_error,omitempty"`
}

// Syslog is the sending of the log lines to the site's syslog receiver
// (package services/syslog).
type Syslog struct {
	Address   string `json:"address"`  // the receiver's, ip:port
	Protocol  string `json:"protocol"` // udp or tcp
	Connected bool   `json:"connected"`
	Sent      uint64 `json:"sent"`    // messages sent
	Dropped   uint64 `json:"dropped"` // lines lost: the queue was full or the send failed
	Queued    int    `json:"queued"`  // lines waiting for the receiver
	Error     string `json:"error,omitempty"`
}

// Health is what the gateway makes of its services' events.
type Health struct {
	// Healthy is false while the gateway has no working path to AWS.
	Healthy    bool `json:"healthy"`
	AWSPaths   int  `json:"aws_paths"`
	TunnelsUp  int  `json:"tunnels_up"`
	VRRPWeight int  `json:"vrrp_weight"`
	VRRPMaster bool `json:"vrrp_master"`
}

// IPsec is charon and the tunnels.
type IPsec struct {
	CharonRunning  bool      `json:"charon_running"`
	CharonPID      int       `json:"charon_pid,omitempty"`
	CharonVersion  string    `json:"charon_version,omitempty"`
	CharonStarted  time.Time `json:"charon_started,omitzero"`
	CharonRestarts int       `json:"charon_restarts"`
	NetworkError   string    `json:"network_error,omitempty"`
	Tunnels        []Tunnel  `json:"tunnels"`
}

// Tunnel is one IPsec tunnel: its IKE_SA and CHILD_SA and their counters.
type Tunnel struct {
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

// BGP is the speaker and its sessions.
type BGP struct {
	Running         bool   `json:"running"`
	Master          bool   `json:"master"` // false: prepending toward AWS
	RoutesInstalled int    `json:"routes_installed"`
	AWSPaths        int    `json:"aws_paths"`
	Peers           []Peer `json:"peers"`

	// MaxPrefixes is how many prefixes one neighbour may send before its
	// session is torn down (Peer.MaxPrefixTeardowns).
	MaxPrefixes int `json:"max_prefixes"`

	// ReturnPath is set while this gateway holds the return path from AWS
	// by announcing more-specifics of the site's prefixes, after its peer
	// went silent (services/gateway/failover.go says why).
	ReturnPath *ReturnPath `json:"return_path,omitempty"`
}

// ReturnPath says since when and with which prefixes the gateway draws
// AWS's return traffic, and whether it ignores the peer's iBGP paths.
type ReturnPath struct {
	Since            time.Time `json:"since"`
	Prefixes         []string  `json:"prefixes"`
	PeerIgnored      bool      `json:"peer_ignored"`
	PeerIgnoredSince time.Time `json:"peer_ignored_since,omitzero"`
}

// Peer is one BGP session: a tunnel's to AWS, or "ibgp" to the other gateway.
type Peer struct {
	Name          string  `json:"name"`
	Address       string  `json:"address"`
	ASN           uint32  `json:"asn"`
	State         string  `json:"state"` // idle, connect, active, opensent, openconfirm, established
	AdminDown     bool    `json:"admin_down"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Established is when the session was established, while it is.
	Established time.Time `json:"established,omitzero"`
	Received    uint64    `json:"received"`
	Accepted    uint64    `json:"accepted"`
	Advertised  uint64    `json:"advertised"`

	// Rejected counts the routes the neighbour sends now that the import
	// filter refuses, by reason (too-short, reserved, endpoint,
	// own-prefix, not-accepted): the gateway lists every reason it
	// knows, 0 included, so that the keys do not come and go.
	Rejected map[string]int `json:"rejected,omitempty"`
	// MaxPrefixTeardowns counts the times the session was torn down for
	// sending more than BGP.MaxPrefixes, since the gateway started.
	MaxPrefixTeardowns uint64 `json:"max_prefix_teardowns"`
	// RetryAt is set while a session torn down for max-prefix waits for
	// its back-off to end: when it is tried again.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// VRRP is the virtual router.
type VRRP struct {
	VRID              uint8             `json:"vrid"`
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

	// PeerAddress is the pair's other router, the only source whose
	// adverts for the VRID are heeded; "" until it is known.
	// PeerLearned says it was learned from its first valid advert (the
	// site names no peer address) rather than configured.
	PeerAddress string `json:"peer_address,omitempty"`
	PeerLearned bool   `json:"peer_learned"`
}

// Firewall is the packet filter's refusals.
type Firewall struct {
	// Dropped counts the packets dropped since the table was last
	// installed, by the class of interface they came in on (uplink, vlan,
	// tunnel, other) or were to be forwarded from (forward): every class,
	// 0 included.
	Dropped map[string]uint64 `json:"dropped"`
}

// Route is one kernel route installed by BGP; several next hops make an ECMP
// route.
type Route struct {
	Prefix   string    `json:"prefix"`
	Metric   int       `json:"metric"`
	NextHops []NextHop `json:"next_hops"`
}

// NextHop is one way of a Route.
type NextHop struct {
	Gateway   string `json:"gateway,omitempty"`
	Interface string `json:"interface,omitempty"`
	Weight    int    `json:"weight,omitempty"` // ECMP weight, when not 1
}

// Role is the VRRP role of the gateway as the rolling reimage wants it:
// "master", "backup", or "initialize"/"" while VRRP does not run yet.
func (d *Document) Role() string {
	if d.VRRP == nil {
		return ""
	}
	return d.VRRP.State
}

// Healthy says whether the gateway could carry the site's traffic: its
// services run and it has a working path to AWS (a tunnel up and BGP routes
// from AWS over it).
func (d *Document) Healthy() bool {
	return d.Phase == "running" && d.Health != nil && d.Health.Healthy
}

// Milestone is one step of the boot timeline.
type Milestone struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"` // since the kernel booted
}
