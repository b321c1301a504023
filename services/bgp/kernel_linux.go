package bgp

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// newRouteHandle opens the netlink handle the kernel table's dumps and link
// lookups use.
func newRouteHandle() (*netlink.Handle, error) { return netlink.NewHandle(unix.NETLINK_ROUTE) }

// ours lists the kernel routes this speaker owns. A dump interrupted by a
// concurrent change (NLM_F_DUMP_INTR) is retried; if it keeps being
// interrupted the partial list is still safe to act on, since every route
// in it exists: deletes only touch routes seen, and routes missed are
// written again by the next pass.
func (k *kernel) ours() (map[pkey]kroute, bool, error) {
	filter := &netlink.Route{Protocol: unix.RTPROT_BGP, Table: unix.RT_TABLE_MAIN}
	var (
		m   map[pkey]kroute
		err error
	)
	for range 5 {
		m = make(map[pkey]kroute, len(k.want))
		err = k.h.RouteListFilteredIter(netlink.FAMILY_V4, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
			if r.Priority != k.metric || r.Dst == nil {
				return true
			}
			p, ok := ipNetToPrefix(r.Dst)
			if !ok || !p.Addr().Is4() {
				return true
			}
			var kr kroute
			if len(r.MultiPath) == 0 {
				gw, _ := netip.AddrFromSlice(r.Gw)
				kr.gw, kr.idx = gw.Unmap(), r.LinkIndex
			}
			for _, nh := range r.MultiPath {
				gw, _ := netip.AddrFromSlice(nh.Gw)
				kr.ecmp = append(kr.ecmp, kernelHop{Gw: gw.Unmap(), IfIndex: nh.LinkIndex})
			}
			m[keyOf(p)] = kr
			return true
		})
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	complete := err == nil
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, false, fmt.Errorf("list kernel routes: %w", err)
	}
	return m, complete, nil
}
