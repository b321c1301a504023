package ipsec

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// inNetNS runs fn on an OS thread inside the network namespace at path, or
// directly when path is "". Netlink and nftables sockets opened by fn, and
// the /proc/sys/net files it opens, belong to that namespace. fn must not
// hand work to other goroutines.
func inNetNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread is in another namespace and ends
		// with the goroutine.
		if err := enterNetNS(path); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// sysctl sets a /proc/sys value ("net.ipv4.ip_forward") in the calling
// thread's network namespace.
func sysctl(key, value string) error {
	p := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("ipsec: sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// routeSysctls are what route-based tunnels need: forwarding between the
// VLAN and the XFRM interfaces, and no reverse-path filter, since with
// several tunnels (and BGP multipath) a reply may come back through a
// different tunnel than the route to its source. rp_filter's effective
// value is the larger of "all" and the interface's, so both are cleared;
// "default" covers interfaces created later. The uplink firewall drops
// forwarded traffic from eth0, which rp_filter would otherwise guard.
// A multipath route (equal MEDs, a transit gateway with ECMP) spreads flows
// by a hash of addresses and ports (policy 1): the default hashes the
// addresses only, which puts every flow between two hosts on one tunnel.
var routeSysctls = [][2]string{
	{"net.ipv4.ip_forward", "1"},
	{"net.ipv4.conf.all.rp_filter", "0"},
	{"net.ipv4.conf.default.rp_filter", "0"},
	{"net.ipv4.fib_multipath_hash_policy", "1"},
}

func setRouteSysctls() error {
	for _, kv := range routeSysctls {
		if err := sysctl(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}
