package firewall

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Table is the nftables table (family inet) the package owns. Install
// replaces it as a whole, so nothing else should be put into it.
const Table = "tidegate"

// Ports the gateway answers on.
const (
	PortIKE  = 500
	PortNATT = 4500
	PortBGP  = 179
	portDHCP = 68 // the client's
)

// Config is what the table lets in. Only Uplink and VLAN are required; the
// rest is what the role adds once it is known.
type Config struct {
	// Uplink is the public interface (eth0), VLAN the VLAN's (eth1).
	Uplink, VLAN string
	// VLANPrefix is the VLAN's subnet. With Peer unset, BGP is accepted
	// from any address in it (the peer is learned); zero: from nobody.
	VLANPrefix netip.Prefix
	// Peer is the other gateway's VLAN address, the only source of BGP on
	// the VLAN when known.
	Peer netip.Addr
	// Tunnels are the XFRM interfaces and their AWS inside addresses.
	Tunnels []Tunnel
	// StatusPort is the status API's TCP port (0: none): open on the VLAN,
	// and on the uplink to Management sources.
	StatusPort uint16
	// Management are the networks that may reach StatusPort on the uplink.
	Management []netip.Prefix
}

// Tunnel is one tunnel's XFRM interface and AWS's address inside it.
type Tunnel struct {
	Device string
	Remote netip.Addr // AWS's inside address, the BGP neighbour
	// MSS is what SYNs into and out of the tunnel are clamped to
	// (configs.Tunnel.MSS: AWS's figure for its ESP proposals).
	MSS uint16
}

// Drop counters, one per class of interface a dropped packet came in on
// (input) or was to be forwarded from (forward).
const (
	DropUplink  = "uplink"
	DropVLAN    = "vlan"
	DropTunnel  = "tunnel"
	DropOther   = "other"
	DropForward = "forward"
)

// Drops lists the counter names.
var Drops = []string{DropUplink, DropVLAN, DropTunnel, DropOther, DropForward}

func (c Config) validate() error {
	var errs []error
	if c.Uplink == "" || c.VLAN == "" || c.Uplink == c.VLAN {
		errs = append(errs, fmt.Errorf("uplink %q and VLAN %q: two different interfaces needed", c.Uplink, c.VLAN))
	}
	if c.VLANPrefix.IsValid() && !c.VLANPrefix.Addr().Is4() {
		errs = append(errs, fmt.Errorf("VLAN prefix %v: IPv4 only", c.VLANPrefix))
	}
	if c.Peer.IsValid() && !c.Peer.Is4() {
		errs = append(errs, fmt.Errorf("peer %v: IPv4 only", c.Peer))
	}
	for _, t := range c.Tunnels {
		if t.Device == "" || len(t.Device) >= unix.IFNAMSIZ || !t.Remote.Is4() {
			errs = append(errs, fmt.Errorf("tunnel %q (remote %v): needs an interface name and an IPv4 address", t.Device, t.Remote))
		}
		if t.MSS < 536 || t.MSS > 1460 {
			errs = append(errs, fmt.Errorf("tunnel %q: TCP MSS %d outside 536..1460", t.Device, t.MSS))
		}
	}
	for _, p := range c.Management {
		if !p.IsValid() || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("management prefix %v: IPv4 only", p))
		}
	}
	if len(c.Management) > 0 && c.StatusPort == 0 {
		errs = append(errs, errors.New("management sources without a status port"))
	}
	return errors.Join(errs...)
}
