// Package lab boots the reference scenario of DESIGN.md on one machine:
// two tidegate gateways from the real disk image (Direct Disk path), an
// independent AWS peer guest (package qemu/awspeer: strongSwan responder and
// FRR bgpd in AS 64512 with the VPC host 10.0.0.24), and a VLAN host whose
// route to the VPC is the VRRP virtual IP, all inside network namespaces the
// lab creates and removes.
//
//	namespace tglab-PID ("the Internet" and "the Linode VLAN" as bridges)
//	  inet 192.0.2.0/24: DHCP (fixed leases), Metadata Service 169.254.169.254,
//	       gw-1 eth0 .11, gw-2 eth0 .12, AWS outside addresses .21-.24
//	  vlan 10.0.1.0/24: gw-1 eth1 .2, gw-2 eth1 .3, VIP .200
//	namespace tglab-PID-host: the VLAN host 10.0.1.10, 10.0.0.0/24 via .200
//
// The Metadata Service answers each gateway by its source address (the DHCP
// lease), as Linode's answers each Linode: its own label and ipam_address,
// and the same site YAML for both.
package lab
