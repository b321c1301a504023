package linode

import (
	"fmt"
	"net/netip"

	"github.com/tidegate/tidegate/configs"
)

// SiteGateways returns the pair that the site YAML describes, each with
// base's image, region, type, VLAN and tags, the whole YAML as user data, and
// its VLAN address: the gateway's vlan_address, or ipam[label] when the
// configuration leaves it to the Metadata Service (which reports the
// ipam_address set here). The site must validate: a gateway booted with
// user data that does not would only wait for a correction.
func SiteGateways(siteYAML []byte, base Gateway, ipam map[string]netip.Prefix) ([2]Gateway, *configs.Site, error) {
	var pair [2]Gateway
	site, err := configs.Parse(siteYAML)
	if err != nil {
		return pair, nil, fmt.Errorf("the site configuration does not validate:\n%w", err)
	}
	if base.VLAN == "" {
		base.VLAN = site.Site
	}
	for l := range ipam {
		if _, err := site.Gateway(l); err != nil {
			return pair, nil, fmt.Errorf("ipam address for %s: %w", l, err)
		}
	}
	for i, sg := range site.Gateways {
		g := base
		g.Label = sg.Name
		g.UserData = siteYAML
		g.Tags = append(append([]string(nil), base.Tags...), "tidegate", "tidegate-"+site.Site)
		g.IPAMAddress = sg.VLANAddress
		if p, ok := ipam[sg.Name]; ok {
			if err := site.CheckVLANAddress(p); err != nil {
				return pair, nil, fmt.Errorf("ipam address for %s: %w", sg.Name, err)
			}
			if sg.VLANAddress.IsValid() && p != sg.VLANAddress {
				return pair, nil, fmt.Errorf("ipam address %s for %s differs from its vlan_address %s in the site configuration", p, sg.Name, sg.VLANAddress)
			}
			g.IPAMAddress = p
		}
		if !g.IPAMAddress.IsValid() {
			return pair, nil, fmt.Errorf("gateway %s has no vlan_address in the site configuration: give its VLAN address (--ipam %s=10.0.1.2/24)", sg.Name, sg.Name)
		}
		pair[i] = g
	}
	return pair, site, nil
}
