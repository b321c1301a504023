package vrrp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// Config configures one virtual router.
type Config struct {
	Interface string // the VLAN interface, e.g. eth1
	VRID      uint8  // 1..255
	Version   int    // 3 [default] or 2 (keepalived's default, with AuthPass)
	Priority  uint8  // 1..255 [100]; 255 means this router owns the addresses

	// AdvertInterval is [1s]: whole seconds for v2, 10 ms steps for v3.
	AdvertInterval time.Duration
	// AuthPass is keepalived's auth_type PASS password (v2 only; only its
	// first 8 characters count). Never logged, never in Status or errors.
	AuthPass string

	// Preempt lets a higher-priority backup take over from a lower-priority
	// master. The site configuration defaults it to true.
	Preempt bool
	// PreemptDelay holds off preemption until this router has outranked
	// the master for this long.
	PreemptDelay time.Duration

	// VirtualIPs are the addresses the master holds, with the prefix length
	// to add them with (e.g. 10.0.1.200/24, or /32 like keepalived's default).
	VirtualIPs []netip.Prefix

	// Prefix is the VLAN's IPv4 subnet (the site's vlan.prefix, e.g.
	// 10.0.1.0/24). When set, adverts whose source is not one of its host
	// addresses are dropped (DropSource), and the advert source is the
	// interface's address inside it.
	Prefix netip.Prefix
	// Peer is the twin's VLAN address, when the site names it (the peer's
	// vlan_address). When set, adverts for our VRID from any other source
	// are dropped (DropPeer). When not, the first advert for our VRID that
	// passes every check pins its source as the peer for the life of the
	// Router (peer.go).
	Peer netip.Addr

	// Sibling is the VRID of the pair's other virtual router on this
	// interface (an active-active pair runs two, VRID and VRID+1): its
	// adverts are that router's business and are ignored here, not
	// counted as DropVRID. 0: none.
	Sibling uint8

	// GARPRepeat is how many gratuitous ARPs per address are sent at once on
	// becoming master [5], and again GARPDelay later [5s]: keepalived's
	// garp_master_repeat and garp_master_delay. A negative delay disables the
	// second burst.
	GARPRepeat int
	GARPDelay  time.Duration
	// UseVirtualMAC puts the addresses on a macvlan "vrrp.VRID" with the
	// RFC's MAC 00:00:5e:00:01:VRID and sends from it (keepalived's
	// use_vmac). The default sends from the interface's own MAC.
	UseVirtualMAC bool

	Logger *slog.Logger
}

// LogValue keeps the password out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("interface", c.Interface),
		slog.Int("vrid", int(c.VRID)),
		slog.Int("version", c.Version),
		slog.Int("priority", int(c.Priority)),
		slog.Duration("advert_interval", c.AdvertInterval),
		slog.Bool("auth", c.AuthPass != ""),
		slog.Bool("preempt", c.Preempt),
		slog.Duration("preempt_delay", c.PreemptDelay),
		slog.Any("virtual_ips", c.VirtualIPs),
		slog.Any("prefix", c.Prefix),
		slog.Any("peer", c.Peer),
		slog.Bool("virtual_mac", c.UseVirtualMAC),
	)
}

// String keeps the password out of %v.
func (c Config) String() string { return c.LogValue().String() }

// normalize applies defaults and validates.
func (c Config) normalize() (Config, error) {
	if c.Version == 0 {
		c.Version = 3
	}
	if c.Priority == 0 {
		c.Priority = 100
	}
	if c.AdvertInterval == 0 {
		c.AdvertInterval = time.Second
	}
	if c.GARPRepeat == 0 {
		c.GARPRepeat = 5
	}
	if c.GARPDelay == 0 {
		c.GARPDelay = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if c.Interface == "" {
		errs = append(errs, errors.New("interface is required"))
	}
	if c.Sibling != 0 && c.Sibling == c.VRID {
		errs = append(errs, fmt.Errorf("sibling VRID %d is our own", c.Sibling))
	}
	if c.VRID == 0 {
		errs = append(errs, errors.New("vrid must be 1..255"))
	}
	switch c.Version {
	case 2:
		if c.AdvertInterval%time.Second != 0 || c.AdvertInterval > v2MaxInterval || c.AdvertInterval < 0 {
			errs = append(errs, fmt.Errorf("advert interval %v: v2 counts whole seconds, 1s..255s", c.AdvertInterval))
		}
		if len(c.AuthPass) > authDataLen {
			// keepalived truncates too; say so rather than fail.
			c.Logger.Warn("vrrp: auth_pass longer than 8 characters; only the first 8 are used, as keepalived does")
		}
	case 3:
		if c.AdvertInterval%v3IntervalUnit != 0 || c.AdvertInterval > v3MaxInterval || c.AdvertInterval < 0 {
			errs = append(errs, fmt.Errorf("advert interval %v: v3 counts 10ms steps, 10ms..40.95s", c.AdvertInterval))
		}
		if c.AuthPass != "" {
			errs = append(errs, errors.New("auth_pass is VRRPv2 only (RFC 5798 removed authentication)"))
		}
	default:
		errs = append(errs, fmt.Errorf("version %d: must be 2 or 3", c.Version))
	}
	if len(c.VirtualIPs) == 0 || len(c.VirtualIPs) > maxAddrs {
		errs = append(errs, errors.New("need 1..255 virtual IPs"))
	}
	for _, p := range c.VirtualIPs {
		if !p.IsValid() || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("virtual IP %v: must be an IPv4 prefix", p))
		}
	}
	if c.Prefix.IsValid() {
		if !c.Prefix.Addr().Is4() {
			errs = append(errs, fmt.Errorf("prefix %v: must be IPv4", c.Prefix))
		}
		c.Prefix = c.Prefix.Masked()
	}
	if c.Peer.IsValid() {
		switch {
		case !unicastHost(c.Peer, netip.Prefix{}):
			errs = append(errs, fmt.Errorf("peer %v: must be an IPv4 unicast address", c.Peer))
		case c.Prefix.IsValid() && c.Prefix.Addr().Is4() && !unicastHost(c.Peer, c.Prefix):
			errs = append(errs, fmt.Errorf("peer %v: not a host address of the VLAN %v", c.Peer, c.Prefix))
		case isVIP(c.Peer, c.VirtualIPs):
			errs = append(errs, fmt.Errorf("peer %v: is a virtual IP, not the peer's own address", c.Peer))
		}
	}
	if c.PreemptDelay < 0 {
		errs = append(errs, errors.New("preempt delay must not be negative"))
	}
	if c.GARPRepeat < 0 {
		errs = append(errs, errors.New("GARP repeat must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("vrrp: config: %w", err)
	}
	return c, nil
}

// gate returns the receive checks; Run fills in our own address.
func (c *Config) gate() gate {
	g := gate{filter: c.filter(), prefix: c.Prefix}
	if c.Peer.IsValid() {
		g.peer = c.Peer
	}
	return g
}

// filter accepts what a router configured as this one sends.
func (c *Config) filter() filter {
	a := c.advertTemplate()
	f := filter{Version: a.Version, VRID: a.VRID, AuthType: a.AuthType, AuthData: a.AuthData, Interval: a.Interval, Addresses: a.Addresses}
	slices.SortFunc(f.Addresses, netip.Addr.Compare)
	return f
}

// advertTemplate is what this router sends, minus the priority.
func (c *Config) advertTemplate() advert {
	a := advert{Version: c.Version, VRID: c.VRID, Interval: c.AdvertInterval}
	if c.Version == 2 && c.AuthPass != "" {
		a.AuthType, a.AuthData = authSimple, authData(c.AuthPass)
	}
	for _, p := range c.VirtualIPs {
		a.Addresses = append(a.Addresses, p.Addr())
	}
	return a
}
