package ipsec

import (
	"net/netip"

	"github.com/tidegate/tidegate/configs"
)

// NewTestTunnel returns a tunnel with configs' defaults, for the tests of
// this package and of package ipsec_test.
func NewTestTunnel(name, outside, inside, psk string) configs.Tunnel {
	return configs.Tunnel{
		Name:           name,
		OutsideAddress: netip.MustParseAddr(outside),
		InsideCIDR:     netip.MustParsePrefix(inside),
		PSK:            configs.NewSecret(psk),
		RemoteASN:      configs.DefaultRemoteASN,
		IKEVersion:     configs.DefaultIKEVersion,
		Proposals:      configs.DefaultProposals(2),
		ESPProposals:   configs.DefaultESPProposals(),
		DPDDelay:       configs.DefaultDPDDelay,
		IKELifetime:    configs.DefaultIKELifetime,
		ChildLifetime:  configs.DefaultChildLifetime,
	}
}
