// Package firewall is the gateway's packet filter: one nftables table
// (family inet, Table) that says what may reach the gateway and what it
// forwards, on every interface, with input and forward policies of drop.
//
// A gateway sits where the internet (eth0), AWS (the XFRM interface of
// each tunnel) and the customer's VLAN (eth1) meet, and Linux answers on
// any of its addresses from any interface (the weak host model): without a
// filter, a VPC host could reach the status API or BGP through a tunnel.
// Install lets in:
//
//   - from everywhere: loopback, and packets of connections the gateway
//     opened itself (conntrack established/related);
//   - eth0: IKE and NAT-T (UDP 500, 4500), ESP, ICMP, DHCP replies, and,
//     from Config.Management sources only, the status API's port (where
//     the gateway serves /healthz and /metrics to them);
//   - each tunnel's XFRM interface: BGP (TCP 179) from that tunnel's AWS
//     inside address, and ICMP;
//   - the VLAN: VRRP, ICMP, BGP from the peer (Config.Peer, or any VLAN
//     address while the peer is learned), the status API;
//   - forwarding: VLAN to a tunnel and a tunnel to the VLAN, nothing else
//     (never a tunnel to eth0, eth0 anywhere, nor tunnel to tunnel).
//
// ESP for one of the gateway's SAs mostly never meets the table either:
// the kernel decrypts it as it is received (GRO, esp4_offload in the
// image), on whatever interface, and the SA's integrity check and replay
// window are what refuse a forged or replayed packet (counted in
// /proc/net/xfrm_stat). ESP for no SA of the gateway's comes through to
// the input rules, which take it from the uplink only.
//
// ARP is not IP and never meets an inet table. Everything else is dropped
// and counted per interface class (Counters), so the status API can show
// what was refused. TCP SYNs crossing a tunnel get their MSS clamped to the
// tunnel's (Tunnel.MSS).
//
// Connection tracking is for the gateway's own connections only. The data
// path is untracked (raw notrack): the forwarded packets, the ESP that
// arrives and the ESP the gateway sends, each a conntrack lookup per packet
// for nothing, since those rules are stateless.
//
// The table is swapped in one netlink transaction, so there is never a
// moment without it once installed, and it outlives the gateway process:
// a crashed gateway leaves the box filtered (fail closed). Boot installs
// the same table before the role is known (Config with only Uplink and
// VLAN set): nothing but DHCP, ICMP and the gateway's own connections gets
// in until the full table replaces it, and the gateway opens no listener
// and starts no service unless Install succeeded.
//
// The table is nftables, so Linux only: on other systems (`tidegate render`
// on a workstation prints the firewall from Config) Install and Counters
// fail (other.go).
package firewall
