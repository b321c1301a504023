package bgp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// AWS's limits and timers (Site-to-Site VPN quotas and the BGP timers its
// virtual private gateways and transit gateways use).
const (
	// MaxAdvertised is how many prefixes AWS accepts from a customer
	// gateway over one BGP session.
	MaxAdvertised = 100
	// DefaultRemoteASN is the ASN of a virtual private gateway unless the
	// customer chose another one.
	DefaultRemoteASN = 64512
	// HoldTime and Keepalive are the timers of every session, AWS's and
	// the iBGP one (tidegate render prints them).
	HoldTime     = 30 * time.Second
	Keepalive    = 10 * time.Second
	holdTime     = HoldTime
	keepalive    = Keepalive
	connectRetry = 3 * time.Second

	defaultReconcile    = 60 * time.Second
	defaultStartupGrace = 30 * time.Second
	defaultRouteMetric  = 20
	defaultPort         = 179
	ibgpLocalPref       = 50 // below the default 100 of routes from our own tunnels
)

// Config is one gateway's BGP configuration. Routing values (MED,
// BackupPrepend) are taken literally: their zero is a real setting, and
// the site's defaults for them live in package configs alone. Only the
// speaker's own operational knobs (Port, RouteMetric, timers, Logger) and
// RemoteASN, whose zero is not an ASN, select a default when left zero.
type Config struct {
	// RouterID is this gateway's VLAN address; it is also the local
	// address of the iBGP session.
	RouterID netip.Addr
	// ASN is the site's private ASN (the seed uses 65000).
	ASN uint32
	// Advertise are the prefixes announced to AWS (and to the iBGP peer),
	// at most MaxAdvertised.
	Advertise []netip.Prefix
	// BackupPrepend is how many times the ASN is prepended toward AWS
	// while this gateway is VRRP backup; 0 means no prepend. Negative
	// values are refused. (configs defaults backup_prepend to 2, as the
	// seed does.)
	BackupPrepend int
	// Tunnels are the eBGP sessions to AWS, one per IPsec tunnel. The first
	// tunnel is preferred unless MEDs say otherwise.
	Tunnels []Tunnel
	// IBGPPeer is the other gateway's VLAN address; the zero Addr means no
	// configured iBGP peer (see IBGPRange).
	IBGPPeer netip.Addr
	// IBGPRange is where the iBGP peer is when its address is not known
	// in advance (the site YAML omits its vlan_address and the peer took
	// its own from its Metadata Service): the site's VLAN prefix, which
	// must hold RouterID. Only without IBGPPeer. The speaker then accepts
	// an iBGP session from any address of the range (it cannot connect to
	// an address it does not know), and connects itself once SetIBGPPeer
	// tells it the peer's address. The zero Prefix means no such range.
	IBGPRange netip.Prefix
	// VLANDevice is the VLAN interface, used as the device of routes
	// learned over iBGP; "" lets the kernel resolve the next hop.
	VLANDevice string
	// IBGPPassword is the iBGP session's TCP-MD5 password (RFC 2385, FRR's
	// "neighbor X password"); "" means none. Never logged nor in Status.
	IBGPPassword string
	// IBGPTTLSecurity turns GTSM on for the iBGP session (ttlSecurity).
	IBGPTTLSecurity bool

	// Import says which routes from AWS and the iBGP peer are refused
	// besides those the speaker refuses on its own (filter.go).
	Import ImportFilter
	// MaxPrefixes is how many prefixes one neighbour may send (counted
	// before the import filter); one more and its session is torn down
	// and retried after a back-off (maxprefix.go). 0 selects
	// DefaultMaxPrefixes; negative values are refused.
	MaxPrefixes int
	// MaxPrefixBackoff is the first wait before a neighbour torn down for
	// MaxPrefixes may connect again (0 selects 30 s; it doubles on
	// repeated teardowns, see maxprefix.go).
	MaxPrefixBackoff time.Duration

	// Port is the TCP port this speaker listens on and connects to
	// (0 selects 179). Tests use it; the gateway leaves it 0.
	Port int
	// ListenAddresses restricts the listening sockets; empty means all
	// addresses (GoBGP rejects connections from unconfigured peers).
	ListenAddresses []netip.Addr
	// Master is the VRRP role at start. A gateway starts as backup
	// (prepending) until VRRP says otherwise.
	Master bool
	// ECMP says AWS's side is a transit gateway with VPN ECMP support,
	// which spreads flows over every path as good as the best: nothing is
	// ever prepended (BackupPrepend and the VRRP role do not change what
	// is sent), and HoldReturnPath's more-specifics are what moves the
	// return traffic on failover.
	ECMP bool
	// Share makes this gateway one half of an active-active pair facing a
	// virtual private gateway, which sends on one preferred path: the
	// speaker always announces both halves of each advertised prefix and
	// draws one of them, 1 the lower, 2 the upper (share.go). 0 is
	// active-standby. Not with ECMP.
	Share int

	// RouteMetric is the metric of the kernel routes this speaker installs.
	// Together with protocol bgp it marks the routes as ours. 0 selects 20.
	RouteMetric int
	// ReconcileInterval is how often the kernel is compared with the RIB
	// (0 selects 60 s).
	ReconcileInterval time.Duration
	// StartupGrace is how long routes left in the kernel by a previous run
	// are kept at start before the first reconciliation removes those the
	// new sessions did not learn again (0 selects 30 s).
	StartupGrace time.Duration

	// OnAWSPaths, if set, is called with the number of prefixes whose best
	// path comes from AWS over one of this gateway's tunnels, each time it
	// changes (VRRP tracks it). It is called from the speaker's goroutine
	// and must not block.
	OnAWSPaths func(n int)
	// Logger receives the speaker's and GoBGP's logs; nil discards them.
	Logger *slog.Logger
}

// Tunnel is one IPsec tunnel's BGP session to AWS.
type Tunnel struct {
	// Name is the tunnel's name from the site configuration (vpn-1a); the
	// IPsec service reports tunnel up/down by it.
	Name string
	// Local is this gateway's inside address (the /30's second address).
	Local netip.Addr
	// Remote is AWS's inside address (the /30's first address).
	Remote netip.Addr
	// RemoteASN is AWS's ASN; 0 selects 64512.
	RemoteASN uint32
	// MED is sent to AWS on our prefixes and, when there are several
	// tunnels, set on the routes learned from this tunnel; lower is
	// preferred, equal MEDs give ECMP. 0 is MED 0, the most preferred
	// (configs gives tunnel i the MED 100*i unless the site sets one).
	MED uint32
	// Device is the tunnel's XFRM interface; "" lets the kernel resolve
	// the next hop (tests run over veth pairs).
	Device string
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !c.RouterID.Is4() {
		bad("router ID %v: must be an IPv4 address", c.RouterID)
	}
	if c.ASN == 0 {
		bad("ASN: must be set")
	}
	c.checkAdvertise(bad)
	if len(c.Tunnels) == 0 && !c.ibgp() {
		bad("tunnels: no BGP peer configured")
	}
	c.Tunnels = c.checkTunnels(bad)
	c.checkIBGP(bad)
	errs = append(errs, c.Import.validate()...)
	if c.MaxPrefixes < 0 {
		bad("max prefixes %d: must be 0 (the default, %d) or more", c.MaxPrefixes, DefaultMaxPrefixes)
	}
	if c.Share < 0 || c.Share > 2 {
		bad("share %d: must be 0 (active-standby), 1 or 2", c.Share)
	}
	if c.Share != 0 && c.ECMP {
		bad("share %d: with ECMP the transit gateway spreads the return traffic itself; leave share 0", c.Share)
	}
	if c.BackupPrepend < 0 {
		bad("backup prepend %d: must be 0 (none) or more", c.BackupPrepend)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d: out of range", c.Port)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("bgp: invalid configuration: %w", errors.Join(errs...))
	}

	if c.Port == 0 {
		c.Port = defaultPort
	}
	if c.MaxPrefixes == 0 {
		c.MaxPrefixes = DefaultMaxPrefixes
	}
	if c.MaxPrefixBackoff <= 0 {
		c.MaxPrefixBackoff = defaultMaxPrefixBackoff
	}
	if c.RouteMetric == 0 {
		c.RouteMetric = defaultRouteMetric
	}
	if c.ReconcileInterval <= 0 {
		c.ReconcileInterval = defaultReconcile
	}
	if c.StartupGrace <= 0 {
		c.StartupGrace = defaultStartupGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// checkAdvertise reports, through bad, advertised prefixes AWS or the
// speaker would refuse.
func (c Config) checkAdvertise(bad func(string, ...any)) {
	if len(c.Advertise) > MaxAdvertised {
		bad("advertise: %d prefixes, AWS accepts at most %d", len(c.Advertise), MaxAdvertised)
	}
	seen := make(map[netip.Prefix]bool)
	for _, p := range c.Advertise {
		switch {
		case !p.IsValid() || !p.Addr().Is4():
			bad("advertise %v: must be an IPv4 prefix", p)
		case p.Masked() != p:
			bad("advertise %v: host bits set (did you mean %v?)", p, p.Masked())
		case seen[p]:
			bad("advertise %v: listed twice", p)
		}
		seen[p] = true
	}
}

// checkTunnels reports, through bad, what is wrong with the tunnels'
// sessions, and returns them with the remote ASN's default filled in.
func (c Config) checkTunnels(bad func(string, ...any)) []Tunnel {
	names := make(map[string]bool)
	addrs := make(map[netip.Addr]bool)
	tunnels := make([]Tunnel, len(c.Tunnels))
	for i, t := range c.Tunnels {
		switch {
		case t.Name == "":
			bad("tunnel %d: name must be set", i)
		case names[t.Name]:
			bad("tunnel %q: name used twice", t.Name)
		}
		names[t.Name] = true
		if !t.Local.Is4() || !t.Remote.Is4() {
			bad("tunnel %q: local %v and remote %v must be IPv4 addresses", t.Name, t.Local, t.Remote)
		}
		if addrs[t.Remote] || t.Remote == c.IBGPPeer {
			bad("tunnel %q: remote %v used by another peer", t.Name, t.Remote)
		}
		if c.IBGPRange.IsValid() && c.IBGPRange.Contains(t.Remote) {
			bad("tunnel %q: remote %v is inside the iBGP range %v", t.Name, t.Remote, c.IBGPRange)
		}
		addrs[t.Remote] = true
		if t.RemoteASN == 0 {
			t.RemoteASN = DefaultRemoteASN
		}
		if t.RemoteASN == c.ASN {
			bad("tunnel %q: remote ASN %d equals ours: AWS sessions are eBGP", t.Name, t.RemoteASN)
		}
		tunnels[i] = t
	}
	return tunnels
}

// checkIBGP reports, through bad, what is wrong with the iBGP peer or its
// range.
func (c Config) checkIBGP(bad func(string, ...any)) {
	if c.IBGPPeer.IsValid() && !c.IBGPPeer.Is4() {
		bad("iBGP peer %v: must be an IPv4 address", c.IBGPPeer)
	}
	if c.IBGPPeer == c.RouterID && c.IBGPPeer.IsValid() {
		bad("iBGP peer %v: is our own router ID", c.IBGPPeer)
	}
	if r := c.IBGPRange; r.IsValid() {
		switch {
		case !r.Addr().Is4():
			bad("iBGP range %v: must be an IPv4 prefix", r)
		case r.Masked() != r:
			bad("iBGP range %v: host bits set (did you mean %v?)", r, r.Masked())
		case c.IBGPPeer.IsValid():
			bad("iBGP range %v: only without a configured iBGP peer (%v)", r, c.IBGPPeer)
		case !r.Contains(c.RouterID):
			bad("iBGP range %v: does not hold our router ID %v, the session's local address", r, c.RouterID)
		}
	}
}

// ibgp reports whether there is an iBGP session, to a configured peer or
// to one in IBGPRange.
func (c Config) ibgp() bool { return c.IBGPPeer.IsValid() || c.IBGPRange.IsValid() }

// isIBGP reports whether a is (or may be) the iBGP peer's address: the
// configured peer, or any address of IBGPRange. Tunnel remotes are never
// in the range (withDefaults refuses it).
func (c Config) isIBGP(a netip.Addr) bool {
	return a.IsValid() && (a == c.IBGPPeer || c.IBGPRange.IsValid() && c.IBGPRange.Contains(a))
}
