// Package lab boots the reference scenario (docs/design.md) on one machine:
// two tidegate gateways from the real disk image (Direct Disk path), an
// independent AWS peer guest (package qemu/awspeer: strongSwan responder
// and FRR bgpd in AS 64512 with the VPC host 10.0.0.24), and a VLAN host
// whose route to the VPC is the VRRP virtual IP, all inside network
// namespaces the lab creates and removes.
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
//
// Options.SeedStack boots a gateway as the seed article's own stack
// instead (package qemu/seedstack: Keepalived, FRR, strongSwan, configured
// from the same site YAML), for the mixed pair of scenario 7 and the
// benchmark against the hand-built stack.
//
// The tests run the scenarios on one boot each (TestLab: 1 ready, 3 one
// tunnel dies, 4 both tunnels die, 5 charon killed, 2 crash, 2b the crashed
// gateway returns, 6 rolling reimage through a fake Linode API, split
// brain, 8 bad user data; TestMixedPair: 7), asserting from outside the
// gateways: the AWS peer's SAs and BGP table, the VLAN host's pings, the
// gateways' status API read from the VLAN host. TestBenchmark
// (TIDEGATE_LAB_BENCH=1) compares tidegate with the seed stack.
//
// StartPrometheus runs a real Prometheus (Debian's) on the VLAN host,
// scraping both gateways' /metrics over the VLAN with the alert rules of
// configs/prometheus on the lab's clock; tidegate-lab starts one, and
// TestLabPrometheus crashes a gateway and watches its alert fire and
// resolve.
//
// TestTrustBoundaries attacks the pair from outside, one scenario for each
// neighbour of the README's "Trust boundaries": the AWS peer announces
// routes the import filter must refuse, then floods 20,000 prefixes
// (max-prefix; by TIDEGATE_LAB_FLOOD=1 only); a rogue host on the VLAN runs
// keepalived for the pair's VRID at priority 254, opens BGP and scans TCP
// and UDP, and the Internet scans the public addresses; the VPC host tries
// the status API and BGP through the tunnels; and the gateway process is
// killed on gw-1's console.
package lab
