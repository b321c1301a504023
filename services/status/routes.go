package status

import (
	"net/netip"
	"slices"
)

// MaxRoutes is the most routes a status Document lists. A gateway learns
// what AWS and the other gateway announce, normally a handful of prefixes
// (AWS caps what a VPN connection advertises at a few hundred to a
// thousand), but nothing stops a peer from announcing far more. Beyond
// MaxRoutes the Document keeps the first MaxRoutes in prefix order and says
// how many there are (RoutesTotal, RoutesTruncated), so that GET /status
// stays a few hundred KiB whatever the table holds.
const MaxRoutes = 1000

// routeTop keeps the first max routes, in prefix order, of any number
// added, holding at most 2*max at a time: it sorts and cuts back to max
// whenever it fills up, so memory stays bounded while a table of any size
// streams through. max <= 0 keeps every route.
type routeTop struct {
	max   int
	total int
	rs    []keyedRoute
}

type keyedRoute struct {
	key netip.Prefix // parsed once; a prefix that does not parse sorts first
	r   Route
}

func (t *routeTop) add(r Route) {
	t.total++
	k, _ := netip.ParsePrefix(r.Prefix)
	t.rs = append(t.rs, keyedRoute{k, r})
	if t.max > 0 && len(t.rs) >= 2*t.max {
		t.cut()
	}
}

func (t *routeTop) cut() {
	slices.SortStableFunc(t.rs, func(a, b keyedRoute) int { return comparePrefixes(a.key, b.key) })
	if t.max > 0 && len(t.rs) > t.max {
		clear(t.rs[t.max:]) // let the dropped routes' strings go
		t.rs = t.rs[:t.max]
	}
}

// routes returns the kept routes in prefix order and how many were added.
func (t *routeTop) routes() ([]Route, int) {
	t.cut()
	out := make([]Route, len(t.rs))
	for i, kr := range t.rs {
		out[i] = kr.r
	}
	return out, t.total
}

// limitRoutes returns the first max routes of rs in prefix order, and
// len(rs). rs is not changed.
func limitRoutes(rs []Route, max int) ([]Route, int) {
	n := len(rs)
	if max > 0 {
		n = min(n, 2*max)
	}
	t := routeTop{max: max, rs: make([]keyedRoute, 0, n)}
	for _, r := range rs {
		t.add(r)
	}
	return t.routes()
}

// sortRoutes orders routes by prefix, numerically.
func sortRoutes(rs []Route) {
	sorted, _ := limitRoutes(rs, 0)
	copy(rs, sorted)
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
