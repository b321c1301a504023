// Package vrrp is tidegate's in-process VRRP router: it elects which of the
// two gateways on the VLAN holds the virtual IP that the VLAN's hosts use as
// their next hop to AWS.
//
// It speaks VRRPv3 (RFC 5798 as corrected by RFC 9568) and VRRPv2 (RFC 3768)
// with keepalived's simple-password authentication, for IPv4 only, so that a
// tidegate gateway can stand in for either side of the seed's keepalived pair.
//
// The package is split by concern:
//
//   - advert.go, drop.go: the VRRP advertisement wire format, its checksums
//     and the receive checks (every reject is a DropReason).
//   - peer.go: the trust boundary: only the pair's peer, from inside the
//     VLAN prefix, speaks for the VRID.
//   - ip.go, socket.go: the IPv4 header around an advertisement and the raw
//     IPv4 socket that sends and receives whole datagrams, header included.
//   - state.go, machine.go: the RFC state machine, free of sockets and
//     clocks so that every transition is unit-tested with a fake clock.
//   - config.go, router.go: the exported Router that runs the machine on
//     real sockets and netlink, publishes state changes and exposes Status.
//   - link.go: the virtual addresses, gratuitous ARP (mdlayher/packet) and
//     the optional RFC virtual MAC (a macvlan).
//
// internal/vrrpd is a small command that runs one Router with flags; the
// namespace tests, the keepalived interop tests and the benchmark run it.
//
// # Only the pair speaks for the VRID
//
// RFC 5798 lets any router on the link take the virtual IP by advertising a
// higher priority, and v2's password travels in clear. A tidegate site is a
// pair, so after the RFC checks the Router drops (and counts):
//
//   - adverts whose IPv4 source is not a host address of Config.Prefix, the
//     VLAN prefix (DropSource, "source"), whatever their VRID;
//   - adverts for our VRID that pass every other check but come from
//     anyone other than the peer (DropPeer, "peer"). The peer is
//     Config.Peer when the site names the twin's VLAN address. Otherwise the
//     Router learns it: the first advert for our VRID that passes every
//     check (authentication included) from a source inside the prefix (any
//     unicast source when no prefix is set) other than our own address pins
//     that source.
//
// Such a drop is logged as a warning at counts 1, 2, 4, 8..., naming the
// source. Status.Peer and Status.PeerLearned show the pinned peer;
// Status.MasterAddr and StateChange.Peer are only ever ourselves or the
// peer, never a stranger, which matters to the gateway that takes its iBGP
// peer from them.
//
// A learned peer is kept for the life of the Router (until the gateway
// restarts), never forgotten on silence. Only the master advertises: while
// we are master a healthy twin, our backup, is silent, so "no advert from
// the peer for a long time" is what a healthy master always sees and cannot
// tell a dead twin from a healthy one. Forgetting on silence would reopen
// learning on every healthy master after the delay, for whoever advertises
// first, and a rogue at priority 254 would then take the virtual IP. The
// protection fails closed instead.
//
// What a network engineer sees when a twin is rebuilt with a new VLAN
// address (Linode IPAM address changed) while the other gateway runs: the
// survivor drops the new twin's adverts under "peer" and warns, naming the
// new address and the pinned one. The new twin learns the survivor (it
// hears it first). If the new twin has the lower priority it stays backup
// and the pair works until it has to take over while the survivor is alive
// (the survivor's tracking lowers its priority, say): the survivor does not
// hear it and stays master too. If it has the higher priority (and preempts,
// the site's default) both are master at once (split brain) until the
// survivor restarts. Either way the fix is to restart the survivor (a
// planned stop hands the virtual IP to the new twin, which accepts it) or,
// better, to name each gateway's vlan_address in the site so that nothing
// is learned. The same holds for a configured peer: a new address is a
// configuration change.
//
// Limits. Learning protects a router only once it has heard its twin: a
// master whose twin has always been its backup has heard nothing, and the
// first valid advert it hears, a rogue's included, becomes its peer.
// Naming vlan_address closes that gap. Neither mode stops a host that
// forges the peer's own source address: that takes authentication VRRP
// does not have.
//
// Secrets: the v2 password is used only to fill and compare the 8-byte
// authentication field; it never appears in logs, errors or Status.
package vrrp
