package configs

import (
	"bytes"
	"fmt"
	"net/netip"

	"go.yaml.in/yaml/v3"
)

// The render types mirror the schema's keys for Masked. They hold strings for
// addresses and durations so that the output reads like hand-written input
// (10.0.1.0/24, 10s) and secrets stay Secret, which marshals masked.
type (
	siteYAML struct {
		Version  int           `yaml:"version"`
		Site     string        `yaml:"site"`
		VLAN     vlanYAML      `yaml:"vlan"`
		VRRP     vrrpYAML      `yaml:"vrrp"`
		BGP      bgpYAML       `yaml:"bgp"`
		Status   statusYAML    `yaml:"status,omitempty"`
		Syslog   *syslogYAML   `yaml:"syslog,omitempty"`
		Gateways []gatewayYAML `yaml:"gateways"`
	}
	vlanYAML struct {
		Interface  string   `yaml:"interface"`
		Prefix     string   `yaml:"prefix"`
		VirtualIP  string   `yaml:"virtual_ip,omitempty"`
		VirtualIPs []string `yaml:"virtual_ips,flow,omitempty"`
	}
	vrrpYAML struct {
		VRID           uint8  `yaml:"vrid"`
		Version        int    `yaml:"version"`
		AdvertInterval string `yaml:"advert_interval"`
		AuthPass       Secret `yaml:"auth_pass,omitempty"`
		Preempt        bool   `yaml:"preempt"`
		PreemptDelay   string `yaml:"preempt_delay"`
	}
	bgpYAML struct {
		ASN           uint32   `yaml:"asn"`
		Advertise     []string `yaml:"advertise,flow"`
		BackupPrepend int      `yaml:"backup_prepend"`
		Accept        []string `yaml:"accept,flow,omitempty"`
		MaxPrefixes   int      `yaml:"max_prefixes"`
		IBGPPassword  Secret   `yaml:"ibgp_password,omitempty"`
		IBGPTTL       bool     `yaml:"ibgp_ttl_security"`
		ECMP          bool     `yaml:"ecmp"`
	}
	statusYAML struct {
		Allow []string `yaml:"allow,flow,omitempty"`
	}
	syslogYAML struct {
		Address  string `yaml:"address"`
		Protocol string `yaml:"protocol"`
	}
	gatewayYAML struct {
		Name        string       `yaml:"name"`
		Priority    uint8        `yaml:"priority"`
		VLANAddress string       `yaml:"vlan_address,omitempty"`
		Tunnels     []tunnelYAML `yaml:"tunnels"`
	}
	tunnelYAML struct {
		Name           string   `yaml:"name"`
		OutsideAddress string   `yaml:"outside_address"`
		InsideCIDR     string   `yaml:"inside_cidr"`
		PSK            Secret   `yaml:"psk"`
		RemoteASN      uint32   `yaml:"remote_asn"`
		IKEVersion     int      `yaml:"ike_version"`
		Proposals      []string `yaml:"proposals"`
		ESPProposals   []string `yaml:"esp_proposals"`
		DPDDelay       string   `yaml:"dpd_delay"`
		IKELifetime    string   `yaml:"ike_lifetime"`
		ChildLifetime  string   `yaml:"child_lifetime"`
		MED            uint32   `yaml:"med"`
	}
)

// Masked renders the effective configuration (every default filled in) as
// YAML in the schema's own keys, with every secret shown as "*****". It is
// what `show config` prints; it is not meant to be parsed back, since the
// masked keys would fail validation.
func (s *Site) Masked() ([]byte, error) {
	out := siteYAML{
		Version: s.Version,
		Site:    s.Site,
		VLAN: vlanYAML{
			Interface: s.VLAN.Interface,
			Prefix:    s.VLAN.Prefix.String(),
		},
		VRRP: vrrpYAML{
			VRID:           s.VRRP.VRID,
			Version:        s.VRRP.Version,
			AdvertInterval: FormatDuration(s.VRRP.AdvertInterval),
			AuthPass:       s.VRRP.AuthPass,
			Preempt:        s.VRRP.Preempt,
			PreemptDelay:   FormatDuration(s.VRRP.PreemptDelay),
		},
		BGP: bgpYAML{
			ASN: s.BGP.ASN, BackupPrepend: s.BGP.BackupPrepend,
			MaxPrefixes: s.BGP.MaxPrefixes, IBGPPassword: s.BGP.IBGPPassword, IBGPTTL: s.BGP.IBGPTTLSecurity,
			ECMP: s.BGP.ECMP,
		},
	}
	if s.ActiveActive() {
		for _, a := range s.VLAN.VirtualIPs {
			out.VLAN.VirtualIPs = append(out.VLAN.VirtualIPs, a.String())
		}
	} else {
		out.VLAN.VirtualIP = s.VLAN.VirtualIP.String()
	}
	out.BGP.Advertise = prefixStrings(s.BGP.Advertise)
	out.BGP.Accept = prefixStrings(s.BGP.Accept)
	out.Status.Allow = prefixStrings(s.Status.Allow)
	if s.Syslog.Enabled() {
		out.Syslog = &syslogYAML{Address: s.Syslog.Address.String(), Protocol: s.Syslog.Protocol}
	}
	for _, g := range s.Gateways {
		gy := gatewayYAML{Name: g.Name, Priority: g.Priority}
		if g.VLANAddress.IsValid() {
			gy.VLANAddress = g.VLANAddress.String()
		}
		for _, t := range g.Tunnels {
			gy.Tunnels = append(gy.Tunnels, tunnelYAML{
				Name:           t.Name,
				OutsideAddress: t.OutsideAddress.String(),
				InsideCIDR:     t.InsideCIDR.String(),
				PSK:            t.PSK,
				RemoteASN:      t.RemoteASN,
				IKEVersion:     t.IKEVersion,
				Proposals:      t.Proposals,
				ESPProposals:   t.ESPProposals,
				DPDDelay:       FormatDuration(t.DPDDelay),
				IKELifetime:    FormatDuration(t.IKELifetime),
				ChildLifetime:  FormatDuration(t.ChildLifetime),
				MED:            t.MED,
			})
		}
		out.Gateways = append(out.Gateways, gy)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("configs: render masked configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("configs: render masked configuration: %w", err)
	}
	return b.Bytes(), nil
}

func prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
