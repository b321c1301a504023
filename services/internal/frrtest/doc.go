// Package frrtest is test support shared by the packages whose tests run a
// real FRR (zebra + bgpd) as the BGP peer: network namespaces joined by veth
// pairs, FRR started in one of them from a temporary directory (never the
// system's /etc/frr or its sockets), and the vtysh JSON queries the tests
// assert on.
//
// Everything it starts is stopped by pid, and every namespace and directory
// it makes is removed, in t.Cleanup. Namespaces are named
// tg<pkg>-<pid>-<name>, so that parallel test binaries never share one.
//
// Only tests import it: it imports testing and fails the test on error.
package frrtest
