// Package netconf brings up the gateway's interfaces with netlink: the
// loopback, the public interface (eth0) by DHCPv4 as Linode hands out its
// primary IPv4, and the VLAN interface (eth1) with a static address from the
// site configuration or the Metadata Service.
//
// Linux only: on other systems (the workstation commands on macOS link the
// gateway's packages) every function fails or, for DHCP, waits (other.go).
package netconf
