package status

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// KernelRoutes lists the IPv4 routes of protocol bgp in the kernel's main
// table: what services/bgp installed (it marks its routes so), read back
// from the kernel rather than from the speaker, so that `show routes` shows
// what forwarding really uses. They come in prefix order.
func KernelRoutes() ([]Route, error) {
	rs, _, err := kernelRoutes(0)
	return rs, err
}

// kernelRoutes lists the first max routes of KernelRoutes (all when max <=
// 0) and counts them all. The kernel's dump streams through a routeTop,
// so a table of 100k routes costs the memory of 2*max.
func kernelRoutes(max int) ([]Route, int, error) {
	filter := &netlink.Route{Protocol: unix.RTPROT_BGP, Table: unix.RT_TABLE_MAIN}
	mask := netlink.RT_FILTER_PROTOCOL | netlink.RT_FILTER_TABLE
	names := map[int]string{}
	ifname := func(index int) string {
		if index == 0 {
			return ""
		}
		if n, ok := names[index]; ok {
			return n
		}
		n := fmt.Sprintf("if%d", index)
		if l, err := netlink.LinkByIndex(index); err == nil {
			n = l.Attrs().Name
		}
		names[index] = n
		return n
	}
	// A dump that the kernel interrupts (the table changed under it, as a
	// large one does while BGP converges) is read again; the last try's
	// listing is kept even if interrupted: a status display may be a
	// moment inconsistent, but not empty.
	var (
		top routeTop
		err error
	)
	for try := 0; try < 3; try++ {
		top = routeTop{max: max}
		err = netlink.RouteListFilteredIter(netlink.FAMILY_V4, filter, mask, func(r netlink.Route) bool {
			if r.Dst != nil {
				top.add(convertRoute(r, ifname))
			}
			return true
		})
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, 0, fmt.Errorf("listing kernel routes: %w", err)
	}
	rs, total := top.routes()
	return rs, total, nil
}

func convertRoute(r netlink.Route, ifname func(int) string) Route {
	rt := Route{Prefix: r.Dst.String(), Metric: r.Priority, NextHops: []NextHop{}}
	if len(r.MultiPath) == 0 {
		nh := NextHop{Interface: ifname(r.LinkIndex)}
		if r.Gw != nil {
			nh.Gateway = r.Gw.String()
		}
		rt.NextHops = append(rt.NextHops, nh)
	}
	for _, p := range r.MultiPath {
		nh := NextHop{Interface: ifname(p.LinkIndex)}
		if p.Gw != nil {
			nh.Gateway = p.Gw.String()
		}
		// The kernel stores weight-1 in rtnh_hops; netlink reports
		// Hops as is.
		if p.Hops > 0 {
			nh.Weight = p.Hops + 1
		}
		rt.NextHops = append(rt.NextHops, nh)
	}
	return rt
}
