// Package netconf brings up the gateway's interfaces with netlink: the
// loopback, the public interface (eth0) by DHCPv4 as Linode hands out its
// primary IPv4, and the VLAN interface (eth1) with a static address from the
// site configuration or the Metadata Service.
package netconf
