package status

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// KernelRoutes lists the IPv4 routes of protocol bgp in the kernel's main
// table: what services/bgp installed (it marks its routes so), read back
// from the kernel rather than from the speaker, so that `show routes` shows
// what forwarding really uses.
func KernelRoutes() ([]Route, error) {
	filter := &netlink.Route{Protocol: unix.RTPROT_BGP, Table: unix.RT_TABLE_MAIN}
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("listing kernel routes: %w", err)
	}
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
	out := make([]Route, 0, len(rs))
	for _, r := range rs {
		if r.Dst == nil {
			continue
		}
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
		out = append(out, rt)
	}
	sortRoutes(out)
	return out, nil
}
