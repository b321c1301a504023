package bgp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// nexthop is one way out for a prefix: a gateway address and, when known,
// the device it is reached through.
type nexthop struct {
	Gw  netip.Addr
	Dev string // "" lets the kernel resolve Gw through its connected routes
	AWS bool   // learned over eBGP from one of our tunnels
}

func (n nexthop) compare(o nexthop) int {
	if c := n.Gw.Compare(o.Gw); c != 0 {
		return c
	}
	if n.Dev < o.Dev {
		return -1
	}
	if n.Dev > o.Dev {
		return 1
	}
	return 0
}

// kernel keeps the main routing table in step with the RIB's best paths.
// want is what the RIB says; the kernel is brought to it route by route as
// paths change and in full by reconcile.
type kernel struct {
	h      *netlink.Handle
	metric int
	log    *slog.Logger
	onAWS  func(int)

	mu       sync.Mutex
	closed   bool // set on stop: late RIB events must not re-add routes
	want     map[netip.Prefix][]nexthop
	failed   map[netip.Prefix]bool // in want, but the last kernel write failed
	awsPaths int
	ifindex  map[string]int
}

func newKernel(h *netlink.Handle, metric int, log *slog.Logger, onAWS func(int)) *kernel {
	return &kernel{
		h:       h,
		metric:  metric,
		log:     log,
		onAWS:   onAWS,
		want:    make(map[netip.Prefix][]nexthop),
		failed:  make(map[netip.Prefix]bool),
		ifindex: make(map[string]int),
	}
}

// update is one prefix's new set of best next hops (empty: withdrawn).
type update struct {
	Prefix netip.Prefix
	Hops   []nexthop
}

// apply writes a batch of RIB changes to the kernel.
func (k *kernel) apply(ups []update) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	before := k.awsPaths
	for _, u := range ups {
		old, had := k.want[u.Prefix]
		slices.SortFunc(u.Hops, nexthop.compare)
		u.Hops = slices.CompactFunc(u.Hops, func(a, b nexthop) bool { return a.compare(b) == 0 })
		if had && slices.Equal(old, u.Hops) && !k.failed[u.Prefix] {
			continue
		}
		if hasAWS(old) {
			k.awsPaths--
		}
		if len(u.Hops) == 0 {
			delete(k.want, u.Prefix)
			delete(k.failed, u.Prefix)
			if err := k.del(u.Prefix); err != nil {
				k.log.Warn("kernel route delete failed", "prefix", u.Prefix, "err", err)
			}
			continue
		}
		k.want[u.Prefix] = u.Hops
		if hasAWS(u.Hops) {
			k.awsPaths++
		}
		if err := k.replace(u.Prefix, u.Hops); err != nil {
			// Kept in want: the next reconcile tries again.
			k.failed[u.Prefix] = true
			k.log.Warn("kernel route install failed", "prefix", u.Prefix, "nexthops", fmtHops(u.Hops), "err", err)
			continue
		}
		delete(k.failed, u.Prefix)
	}
	k.notifyAWS(before)
}

func (k *kernel) notifyAWS(before int) {
	if k.awsPaths != before && k.onAWS != nil {
		k.onAWS(k.awsPaths)
	}
}

func hasAWS(hops []nexthop) bool {
	for _, h := range hops {
		if h.AWS {
			return true
		}
	}
	return false
}

func fmtHops(hops []nexthop) string {
	s := ""
	for i, h := range hops {
		if i > 0 {
			s += ","
		}
		s += h.Gw.String()
		if h.Dev != "" {
			s += "@" + h.Dev
		}
	}
	return s
}

// route builds our kernel route for prefix via hops.
func (k *kernel) route(p netip.Prefix, hops []nexthop) *netlink.Route {
	r := &netlink.Route{
		Dst:      prefixToIPNet(p),
		Protocol: unix.RTPROT_BGP,
		Priority: k.metric,
		Table:    unix.RT_TABLE_MAIN,
		Type:     unix.RTN_UNICAST,
		Scope:    netlink.SCOPE_UNIVERSE,
		Family:   netlink.FAMILY_V4,
	}
	if len(hops) == 1 {
		r.Gw = hops[0].Gw.AsSlice()
		r.LinkIndex = k.link(hops[0].Dev)
		return r
	}
	for _, h := range hops {
		r.MultiPath = append(r.MultiPath, &netlink.NexthopInfo{Gw: h.Gw.AsSlice(), LinkIndex: k.link(h.Dev)})
	}
	return r
}

// link resolves a device name to its index; 0 (let the kernel resolve the
// gateway) when the name is empty or the device is gone, as an XFRM
// interface is while its tunnel is being rebuilt.
func (k *kernel) link(dev string) int {
	if dev == "" {
		return 0
	}
	if i, ok := k.ifindex[dev]; ok {
		return i
	}
	l, err := k.h.LinkByName(dev)
	if err != nil {
		k.log.Warn("route device not found", "device", dev, "err", err)
		return 0
	}
	k.ifindex[dev] = l.Attrs().Index
	return l.Attrs().Index
}

func (k *kernel) replace(p netip.Prefix, hops []nexthop) error {
	err := k.h.RouteReplace(k.route(p, hops))
	if err != nil && len(k.ifindex) > 0 {
		// An interface may have been recreated with a new index.
		clear(k.ifindex)
		err = k.h.RouteReplace(k.route(p, hops))
	}
	if err != nil {
		return fmt.Errorf("replace route %v via %s: %w", p, fmtHops(hops), err)
	}
	return nil
}

// del removes our route for p, and only ours: protocol, metric and table
// select it.
func (k *kernel) del(p netip.Prefix) error {
	err := k.h.RouteDel(&netlink.Route{
		Dst:      prefixToIPNet(p),
		Protocol: unix.RTPROT_BGP,
		Priority: k.metric,
		Table:    unix.RT_TABLE_MAIN,
		Family:   netlink.FAMILY_V4,
	})
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete route %v: %w", p, err)
	}
	return nil
}

// ours lists the kernel routes this speaker owns. A dump interrupted by a
// concurrent change (NLM_F_DUMP_INTR) is retried; if it keeps being
// interrupted the partial list is still safe to act on, since every route
// in it exists: deletes only touch routes seen, and routes missed are
// written again by the next pass.
func (k *kernel) ours() (map[netip.Prefix]netlink.Route, bool, error) {
	filter := &netlink.Route{Protocol: unix.RTPROT_BGP, Table: unix.RT_TABLE_MAIN}
	var (
		rs  []netlink.Route
		err error
	)
	for range 5 {
		rs, err = k.h.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	complete := err == nil
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, false, fmt.Errorf("list kernel routes: %w", err)
	}
	m := make(map[netip.Prefix]netlink.Route, len(rs))
	for _, r := range rs {
		if r.Priority != k.metric || r.Dst == nil {
			continue
		}
		p, ok := ipNetToPrefix(r.Dst)
		if !ok {
			continue
		}
		m[p] = r
	}
	return m, complete, nil
}

// reconcile makes the kernel match want: our routes that the RIB no longer
// has are removed, missing or different ones written.
func (k *kernel) reconcile() (added, removed int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	have, complete, err := k.ours()
	if err != nil {
		return 0, 0, err
	}
	if !complete {
		k.log.Warn("kernel route dump kept being interrupted; reconciling with a partial view")
	}
	clear(k.ifindex)
	var errs []error
	for p := range have {
		if _, ok := k.want[p]; !ok {
			if err := k.del(p); err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	for p, hops := range k.want {
		r, ok := have[p]
		if ok && k.sameHops(r, hops) {
			delete(k.failed, p)
			continue
		}
		if err := k.replace(p, hops); err != nil {
			k.failed[p] = true
			errs = append(errs, err)
			continue
		}
		delete(k.failed, p)
		added++
	}
	return added, removed, errors.Join(errs...)
}

// sameHops reports whether the kernel route r already goes via hops.
func (k *kernel) sameHops(r netlink.Route, hops []nexthop) bool {
	type hop struct {
		gw    netip.Addr
		index int
	}
	var got []hop
	if len(r.MultiPath) == 0 {
		gw, _ := netip.AddrFromSlice(r.Gw)
		got = append(got, hop{gw.Unmap(), r.LinkIndex})
	}
	for _, nh := range r.MultiPath {
		gw, _ := netip.AddrFromSlice(nh.Gw)
		got = append(got, hop{gw.Unmap(), nh.LinkIndex})
	}
	if len(got) != len(hops) {
		return false
	}
	for _, h := range hops {
		idx := k.link(h.Dev)
		if !slices.ContainsFunc(got, func(g hop) bool { return g.gw == h.Gw && (idx == 0 || g.index == idx) }) {
			return false
		}
	}
	return true
}

// removeAll deletes every route this speaker owns and ignores later RIB
// changes (on a clean stop, while GoBGP withdraws the closed sessions'
// paths one by one).
func (k *kernel) removeAll() (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	clear(k.want)
	clear(k.failed)
	before := k.awsPaths
	k.awsPaths = 0
	k.notifyAWS(before)
	have, _, err := k.ours()
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for p := range have {
		if err := k.del(p); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// counts returns how many prefixes the RIB has put in the kernel, and how
// many of them go to AWS over our own tunnels.
func (k *kernel) counts() (routes, aws int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.want) - len(k.failed), k.awsPaths
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}
