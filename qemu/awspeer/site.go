package awspeer

import (
	"fmt"

	"github.com/tidegate/tidegate/configs"
)

// FromSite returns the peer that serves the tunnels of the named gateways
// of a site configuration (every gateway when names is empty), so that a
// test or the lab writes one YAML document and both ends agree on outside
// addresses, inside /30s and keys. The customer gateways' outside addresses
// come from DHCP and are not in the site configuration: the peer accepts
// any (Tunnel.OutsideCustomer is left zero).
func FromSite(s *configs.Site, names ...string) (Config, error) {
	var c Config
	gws := s.Gateways
	if len(names) > 0 {
		gws = nil
		for _, n := range names {
			g, err := s.Gateway(n)
			if err != nil {
				return c, fmt.Errorf("awspeer: %w", err)
			}
			gws = append(gws, *g)
		}
	}
	for _, g := range gws {
		for _, t := range g.Tunnels {
			if c.ASN == 0 {
				c.ASN = t.RemoteASN
			} else if c.ASN != t.RemoteASN {
				return c, fmt.Errorf("awspeer: tunnel %s: remote_asn %d, but another tunnel has %d: one peer is one ASN", t.Name, t.RemoteASN, c.ASN)
			}
			c.Tunnels = append(c.Tunnels, Tunnel{
				Name:        t.Name,
				OutsideAWS:  t.OutsideAddress,
				InsideCIDR:  t.InsideCIDR,
				PSK:         t.PSK.Reveal(),
				CustomerASN: s.BGP.ASN,
			})
		}
	}
	return c, c.Validate()
}
