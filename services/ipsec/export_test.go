package ipsec

// InstallFirewall lets the external tests install the firewall without a
// charon holding the IKE ports they probe.
func InstallFirewall(netns, uplink string) error {
	return inNetNS(netns, func() error { return installFirewall(uplink) })
}
