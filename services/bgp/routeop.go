package bgp

import "net/netip"

// routeOp is one route change. Hops empty means delete.
type routeOp struct {
	Prefix netip.Prefix
	Hops   []kernelHop
}

type kernelHop struct {
	Gw      netip.Addr
	IfIndex int // 0: the kernel resolves Gw
}
