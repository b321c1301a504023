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
//   - ip.go: the IPv4 header around an advertisement (VRRP is sent and
//     received as whole IPv4 datagrams over mdlayher/packet).
//   - state.go, machine.go: the RFC state machine, free of sockets and
//     clocks so that every transition is unit-tested with a fake clock.
//   - config.go, router.go: the exported Router that runs the machine on
//     real sockets and netlink, publishes state changes and exposes Status.
//   - link.go: the sockets, the virtual addresses, gratuitous ARP and the
//     optional RFC virtual MAC (a macvlan).
//
// internal/vrrpd is a small command that runs one Router with flags; the
// namespace tests, the keepalived interop tests and the benchmark run it.
//
// Secrets: the v2 password is used only to fill and compare the 8-byte
// authentication field; it never appears in logs, errors or Status.
package vrrp
