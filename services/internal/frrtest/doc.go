// Package frrtest is test support shared by the packages whose tests run a
// real FRR (zebra + bgpd) as the BGP peer: FRR started in a network
// namespace (made by internal/netnstest's Lab) from a temporary directory,
// never the system's /etc/frr or its sockets, and the vtysh JSON queries
// the tests assert on.
//
// Everything it starts is stopped by pid, and every directory it makes is
// removed, in t.Cleanup.
//
// Only tests import it: it imports testing and fails the test on error.
package frrtest
