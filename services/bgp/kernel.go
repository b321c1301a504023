package bgp

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
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

// hopSet is an interned set of next hops: the thousands of prefixes a
// peer announces share a handful of sets, so each prefix costs a pointer.
type hopSet struct {
	hops []nexthop // sorted
	aws  bool      // one of them is an AWS tunnel
	// khops is hops as written to the kernel, shared by the ops of every
	// prefix that uses the set; valid while gen is the kernel's ifindexGen.
	khops []kernelHop
	gen   int
	// refs counts the prefixes in kernel.want that use the set; at zero
	// the set is forgotten (release), so next hops that came and went
	// (tunnel addresses, learned peers) do not pile up.
	refs int
}

// kernel keeps the main routing table in step with the RIB's best paths.
// want is what the RIB says; the kernel is brought to it route by route as
// paths change and in full by reconcile.
type kernel struct {
	h      *netlink.Handle // dumps and link lookups
	w      *routeWriter    // route writes, batched
	metric int
	log    *slog.Logger
	onAWS  func(int)

	mu       sync.Mutex
	closed   bool // set on stop: late RIB events must not re-add routes
	want     map[pkey]*hopSet
	sets     map[string]*hopSet  // ECMP sets, by fmtHops
	single   map[nexthop]*hopSet // one-hop sets, the common case, found without a key string
	failed   map[pkey]bool       // in want, but the last kernel write failed
	awsPaths int
	ifindex  map[string]int
	// ifindexGen counts the times ifindex was dropped (an interface may
	// have a new index), which invalidates every hopSet.khops.
	ifindexGen int
}

func newKernel(h *netlink.Handle, w *routeWriter, metric int, log *slog.Logger, onAWS func(int)) *kernel {
	return &kernel{
		h:       h,
		w:       w,
		metric:  metric,
		log:     log,
		onAWS:   onAWS,
		want:    make(map[pkey]*hopSet),
		sets:    make(map[string]*hopSet),
		single:  make(map[nexthop]*hopSet),
		failed:  make(map[pkey]bool),
		ifindex: make(map[string]int),
	}
}

// update is one prefix's new set of best next hops (empty: withdrawn).
type update struct {
	Prefix netip.Prefix
	Hops   []nexthop
}

// intern returns the shared hopSet equal to hops (nil for none).
func (k *kernel) intern(hops []nexthop) *hopSet {
	if len(hops) == 0 {
		return nil
	}
	if len(hops) == 1 {
		if hs, ok := k.single[hops[0]]; ok {
			return hs
		}
		hs := &hopSet{hops: slices.Clone(hops), aws: hops[0].AWS}
		k.single[hops[0]] = hs
		return hs
	}
	slices.SortFunc(hops, nexthop.compare)
	hops = slices.CompactFunc(hops, func(a, b nexthop) bool { return a.compare(b) == 0 })
	if len(hops) == 1 {
		return k.intern(hops)
	}
	key := fmtHops(hops)
	if hs, ok := k.sets[key]; ok {
		return hs
	}
	hs := &hopSet{hops: slices.Clone(hops), aws: hasAWS(hops)}
	k.sets[key] = hs
	return hs
}

// release drops one prefix's use of hs and forgets hs when no prefix uses
// it any more.
func (k *kernel) release(hs *hopSet) {
	if hs.refs--; hs.refs > 0 {
		return
	}
	if len(hs.hops) == 1 {
		delete(k.single, hs.hops[0])
	} else {
		delete(k.sets, fmtHops(hs.hops))
	}
}

// apply writes a batch of RIB changes to the kernel.
func (k *kernel) apply(ups []update) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	before := k.awsPaths
	ops := make([]routeOp, 0, len(ups))
	for _, u := range ups {
		hs := k.intern(u.Hops)
		key := keyOf(u.Prefix)
		old, had := k.want[key]
		if had == (hs != nil) && old == hs && !k.failed[key] {
			continue
		}
		if old != nil && old.aws {
			k.awsPaths--
		}
		if old != hs {
			if hs != nil {
				hs.refs++
			}
			if old != nil {
				k.release(old)
			}
		}
		if hs == nil {
			if !had {
				continue
			}
			delete(k.want, key)
			delete(k.failed, key)
		} else {
			k.want[key] = hs
			if hs.aws {
				k.awsPaths++
			}
		}
		ops = append(ops, k.op(u.Prefix, hs))
	}
	k.write(ops)
	k.notifyAWS(before)
}

// write sends ops to the kernel and records which replacements failed, to
// be tried again by the next reconcile.
func (k *kernel) write(ops []routeOp) []error {
	errs := k.w.write(ops)
	if slices.ContainsFunc(errs, func(err error) bool { return err != nil }) && len(k.ifindex) > 0 {
		// An interface may have been recreated with a new index: look
		// the names up again and retry what failed.
		k.forgetLinks()
		var retry []routeOp
		var at []int
		for i, err := range errs {
			if err != nil && len(ops[i].Hops) > 0 {
				p := ops[i].Prefix
				retry = append(retry, k.op(p, k.want[keyOf(p)]))
				at = append(at, i)
			}
		}
		for j, err := range k.w.write(retry) {
			errs[at[j]] = err
		}
	}
	for i, err := range errs {
		p := ops[i].Prefix
		switch {
		case err == nil:
			delete(k.failed, keyOf(p))
		case len(ops[i].Hops) > 0:
			k.failed[keyOf(p)] = true
			k.log.Warn("kernel route install failed", "prefix", p, "err", err)
		default:
			k.log.Warn("kernel route delete failed", "prefix", p, "err", err)
		}
	}
	return errs
}

// op is the kernel change that makes p go via hs (nil: delete).
func (k *kernel) op(p netip.Prefix, hs *hopSet) routeOp {
	op := routeOp{Prefix: p}
	if hs == nil {
		return op
	}
	if hs.khops != nil && hs.gen == k.ifindexGen {
		op.Hops = hs.khops
		return op
	}
	op.Hops = make([]kernelHop, len(hs.hops))
	resolved := true
	for i, h := range hs.hops {
		op.Hops[i] = kernelHop{Gw: h.Gw, IfIndex: k.link(h.Dev)}
		resolved = resolved && (h.Dev == "" || op.Hops[i].IfIndex > 0)
	}
	if resolved {
		// A device that is missing is looked up again next time.
		hs.khops, hs.gen = op.Hops, k.ifindexGen
	}
	return op
}

// forgetLinks drops the cached interface indexes, to be looked up again.
func (k *kernel) forgetLinks() {
	clear(k.ifindex)
	k.ifindexGen++
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
		if h.AWS {
			s += "(aws)"
		}
	}
	return s
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

// kroute is what reconciliation needs of one of our kernel routes: a
// fraction of a netlink.Route, as a full table's dump is held at once.
type kroute struct {
	gw   netip.Addr
	idx  int
	ecmp []kernelHop // the next hops of a multipath route
}

// reconcile makes the kernel match want: our routes that the RIB no longer
// has are removed, missing or different ones written.
func (k *kernel) reconcile() (added, removed int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return 0, 0, nil
	}
	have, complete, err := k.ours()
	if err != nil {
		return 0, 0, err
	}
	if !complete {
		k.log.Warn("kernel route dump kept being interrupted; reconciling with a partial view")
	}
	k.forgetLinks()
	var ops []routeOp
	for p := range have {
		if _, ok := k.want[p]; !ok {
			ops = append(ops, routeOp{Prefix: p.prefix()})
		}
	}
	for p, hs := range k.want {
		if r, ok := have[p]; ok && k.sameHops(r, hs.hops) {
			delete(k.failed, p)
			continue
		}
		ops = append(ops, k.op(p.prefix(), hs))
	}
	errs := k.write(ops)
	for i, e := range errs {
		switch {
		case e != nil:
		case len(ops[i].Hops) == 0:
			removed++
		default:
			added++
		}
	}
	return added, removed, errors.Join(errs...)
}

// sameHops reports whether the kernel route r already goes via hops.
func (k *kernel) sameHops(r kroute, hops []nexthop) bool {
	got := r.ecmp
	if len(got) == 0 {
		got = []kernelHop{{Gw: r.gw, IfIndex: r.idx}}
	}
	if len(got) != len(hops) {
		return false
	}
	for _, h := range hops {
		idx := k.link(h.Dev)
		if !slices.ContainsFunc(got, func(g kernelHop) bool { return g.Gw == h.Gw && (idx == 0 || g.IfIndex == idx) }) {
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
	clear(k.sets)
	clear(k.single)
	before := k.awsPaths
	k.awsPaths = 0
	k.notifyAWS(before)
	have, _, err := k.ours()
	if err != nil {
		return 0, err
	}
	ops := make([]routeOp, 0, len(have))
	for p := range have {
		ops = append(ops, routeOp{Prefix: p.prefix()})
	}
	errs := k.w.write(ops)
	n := 0
	for _, e := range errs {
		if e == nil {
			n++
		}
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

// pkey is an IPv4 prefix as a map key: the address and the length in 8
// bytes without pointers, where a netip.Prefix takes 32 with one; at a
// full table the map of wanted routes is most of this package's heap, and
// the garbage collector scans it.
type pkey uint64

func keyOf(p netip.Prefix) pkey {
	a := p.Addr().As4()
	return pkey(binary.BigEndian.Uint32(a[:]))<<8 | pkey(p.Bits())
}

func (k pkey) prefix() netip.Prefix {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(k>>8))
	return netip.PrefixFrom(netip.AddrFrom4(a), int(k&0xff))
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
