package seedstack

import (
	"fmt"
	"net/netip"

	"github.com/tidegate/tidegate/configs"
)

// Config says which gateway of a site the guest plays.
type Config struct {
	// Site is the pair's site configuration, the one tidegate gateways get
	// as user data: both ends of a mixed pair read the same document.
	Site *configs.Site
	// Gateway names the gateway of Site this guest is. Its vlan_address
	// must be set (the seed configures it by hand).
	Gateway string
	// Public is eth0's address with its prefix length (on a Linode, the
	// public IPv4 its network helper configures).
	Public netip.Prefix
	// Router, when valid, is the default route on eth0.
	Router netip.Addr
}

// gateways returns this gateway and its partner.
func (c Config) gateways() (self, peer *configs.Gateway, index int, err error) {
	if c.Site == nil {
		return nil, nil, 0, fmt.Errorf("seedstack: no site configuration")
	}
	if self, err = c.Site.Gateway(c.Gateway); err != nil {
		return nil, nil, 0, fmt.Errorf("seedstack: %w", err)
	}
	if peer, err = c.Site.Peer(c.Gateway); err != nil {
		return nil, nil, 0, fmt.Errorf("seedstack: %w", err)
	}
	for i := range c.Site.Gateways {
		if c.Site.Gateways[i].Name == c.Gateway {
			index = i
		}
	}
	if !self.VLANAddress.IsValid() {
		return nil, nil, 0, fmt.Errorf("seedstack: gateway %s has no vlan_address: the seed's stack is configured by hand", self.Name)
	}
	if !peer.VLANAddress.IsValid() {
		return nil, nil, 0, fmt.Errorf("seedstack: gateway %s has no vlan_address: its iBGP neighbour is configured by hand", peer.Name)
	}
	if !c.Public.Addr().Is4() {
		return nil, nil, 0, fmt.Errorf("seedstack: public address %v: want IPv4", c.Public)
	}
	return self, peer, index, nil
}
