package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// The import filter: what AWS and the iBGP peer may put into this
// gateway's routing table.
//
// Anyone who holds a tunnel's pre-shared key, and any transit gateway
// route table that propagates more than the user meant, can announce
// routes to us; the iBGP peer passes on whatever it accepted. Some routes
// would take the site down if installed:
//
//   - a route equal to or inside the VLAN prefix, an advertised prefix or
//     the virtual IP pulls the VLAN's replies into a tunnel (a covering
//     summary such as 10.0.0.0/8 is harmless: the connected route is
//     longer and wins);
//   - a route that contains a tunnel's outside address or the gateway's
//     public address routes IKE and ESP into the tunnel they carry;
//   - 0.0.0.0/0 and other very short routes (0/1 + 128/1) do both;
//   - 169.254.0.0/16 holds the Metadata Service and the tunnels' inside
//     /30s; loopback, multicast and class E are never routes.
//
// Those are rejected by GoBGP's import policy before they reach the RIB,
// so they are neither installed nor passed on to the iBGP peer, and
// counted per reason (Reason) in Status. An optional allow list
// (ImportFilter.Accept) narrows what is accepted further.

// Reason says why the import filter rejects a route.
type Reason string

// Reasons, in the order they are checked: a route is counted under the
// first that applies.
const (
	RejectTooShort    Reason = "too-short"    // shorter than /8 (0.0.0.0/0 included), not allowed by Accept
	RejectReserved    Reason = "reserved"     // overlaps 169.254/16, 0/8, 127/8, 224/4 or 240/4
	RejectEndpoint    Reason = "endpoint"     // contains a tunnel's outside address or our public address
	RejectOwn         Reason = "own-prefix"   // equal to or inside the VLAN, an advertised prefix or the VIP
	RejectNotAccepted Reason = "not-accepted" // outside the site's allow list (ImportFilter.Accept)
)

// Reasons lists every Reason in check order.
var Reasons = []Reason{RejectTooShort, RejectReserved, RejectEndpoint, RejectOwn, RejectNotAccepted}

// minPrefixLen is the shortest route accepted without being listed in
// ImportFilter.Accept.
const minPrefixLen = 8

// reserved are the ranges no route may overlap.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"), // link-local: the Metadata Service, the tunnels' inside /30s
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // class E and the limited broadcast
}

// ImportFilter is what the gateway adds to the speaker's own knowledge
// (Config.Advertise) to decide which routes it imports.
type ImportFilter struct {
	// Own are the site's own prefixes besides the advertised ones: the
	// VLAN prefix and the virtual IP. Routes equal to or inside them are
	// rejected.
	Own []netip.Prefix
	// Endpoints are the tunnels' outside addresses and this gateway's
	// public address. Routes that contain one are rejected.
	Endpoints []netip.Addr
	// Accept, when not empty, is the site's allow list: only routes equal
	// to or inside one of these are accepted. An entry shorter than /8
	// (e.g. 0.0.0.0/0) is also how a site allows routes that short.
	Accept []netip.Prefix
}

// importFilter is an ImportFilter with the advertised prefixes folded in.
type importFilter struct {
	own       []netip.Prefix
	advertise []netip.Prefix
	endpoints []netip.Addr
	accept    []netip.Prefix
}

func newImportFilter(f ImportFilter, advertise []netip.Prefix) importFilter {
	return importFilter{
		own:       slices.Concat(f.Own, advertise),
		advertise: advertise,
		endpoints: f.Endpoints,
		accept:    f.Accept,
	}
}

// reason returns why p is rejected, or "" when it is accepted. fromIBGP
// says the route comes from the iBGP peer, whose own announcement of an
// advertised prefix (the pair announces the same ones) is expected: our
// local path wins over it, so it is accepted and not counted.
//
// policies builds GoBGP statements that decide the same;
// TestImportFilterWithFRR checks that they agree.
func (f importFilter) reason(p netip.Prefix, fromIBGP bool) Reason {
	p = p.Masked()
	if p.Bits() < minPrefixLen && !f.allowedShort(p) {
		return RejectTooShort
	}
	for _, r := range reserved {
		if p.Overlaps(r) {
			return RejectReserved
		}
	}
	for _, a := range f.endpoints {
		if p.Contains(a) {
			return RejectEndpoint
		}
	}
	if fromIBGP && slices.Contains(f.advertise, p) {
		return ""
	}
	for _, o := range f.own {
		if inside(p, o) {
			return RejectOwn
		}
	}
	if len(f.accept) > 0 && !slices.ContainsFunc(f.accept, func(a netip.Prefix) bool { return inside(p, a) }) {
		return RejectNotAccepted
	}
	return ""
}

// allowedShort reports whether a route shorter than /8 is inside an
// Accept entry that is itself that short: the site asked for it.
func (f importFilter) allowedShort(p netip.Prefix) bool {
	return slices.ContainsFunc(f.accept, func(a netip.Prefix) bool { return a.Bits() < minPrefixLen && inside(p, a) })
}

// inside reports whether p is equal to or more specific than o.
func inside(p, o netip.Prefix) bool { return p.Bits() >= o.Bits() && o.Contains(p.Addr()) }

// Names of the filter's defined sets.
const (
	setPeers       = "tg-peers" // every neighbour: tunnels and the iBGP peer or range
	setReserved    = "tg-reserved"
	setTooShort    = "tg-too-short"
	setEndpoints   = "tg-endpoints"
	setOwn         = "tg-own"
	setAccept      = "tg-accept"
	setAdvertiseIn = "tg-advertise-in" // the advertised prefixes, for the iBGP exception
)

// statements returns the defined sets and the import statements that
// reject what reason rejects, in the same order, for routes from any
// neighbour in peers. accepted is the action for the iBGP peer's own
// announcement of an advertised prefix (nil without iBGP). The statements
// match neighbours only, never locally originated paths.
func (f importFilter) statements(peers *api.DefinedSet, ibgp *api.MatchSet, accepted *api.Actions) ([]*api.DefinedSet, []*api.Statement) {
	sets := []*api.DefinedSet{peers}
	var stmts []*api.Statement
	fromPeers := &api.MatchSet{Name: peers.Name, Type: api.MatchSet_ANY}
	reject := func(r Reason, set *api.DefinedSet, match api.MatchSet_Type) {
		if len(set.Prefixes) == 0 {
			return
		}
		sets = append(sets, set)
		stmts = append(stmts, &api.Statement{
			Name: "tg-reject-" + string(r),
			Conditions: &api.Conditions{
				NeighborSet: fromPeers,
				PrefixSet:   &api.MatchSet{Name: set.Name, Type: match},
			},
			Actions: &api.Actions{RouteAction: api.RouteAction_REJECT},
		})
	}

	short := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: setTooShort}
	if slices.ContainsFunc(f.accept, func(a netip.Prefix) bool { return a.Bits() < minPrefixLen }) {
		// Every prefix shorter than /8 (255 of them) but the allowed ones.
		for bits := range minPrefixLen {
			for i := range 1 << bits {
				p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i << (8 - bits))}), bits)
				if !f.allowedShort(p) {
					short.Prefixes = append(short.Prefixes, exactly(p))
				}
			}
		}
	} else {
		short.Prefixes = append(short.Prefixes, &api.Prefix{IpPrefix: "0.0.0.0/0", MaskLengthMin: 0, MaskLengthMax: minPrefixLen - 1})
	}
	reject(RejectTooShort, short, api.MatchSet_ANY)

	res := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: setReserved}
	for _, r := range reserved {
		res.Prefixes = append(res.Prefixes, overlapping(r)...)
	}
	reject(RejectReserved, res, api.MatchSet_ANY)

	ends := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: setEndpoints}
	for _, a := range f.endpoints {
		for bits := range a.BitLen() + 1 {
			ends.Prefixes = append(ends.Prefixes, exactly(netip.PrefixFrom(a, bits).Masked()))
		}
	}
	reject(RejectEndpoint, ends, api.MatchSet_ANY)

	if ibgp != nil && len(f.advertise) > 0 {
		sets = append(sets, prefixSet(setAdvertiseIn, f.advertise))
		stmts = append(stmts, &api.Statement{
			Name: "tg-ibgp-in-site",
			Conditions: &api.Conditions{
				NeighborSet: ibgp,
				PrefixSet:   &api.MatchSet{Name: setAdvertiseIn, Type: api.MatchSet_ANY},
			},
			Actions: accepted,
		})
	}

	own := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: setOwn}
	for _, o := range f.own {
		own.Prefixes = append(own.Prefixes, orLonger(o))
	}
	reject(RejectOwn, own, api.MatchSet_ANY)

	acc := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: setAccept}
	for _, a := range f.accept {
		acc.Prefixes = append(acc.Prefixes, orLonger(a))
	}
	reject(RejectNotAccepted, acc, api.MatchSet_INVERT)
	return sets, stmts
}

// exactly matches p alone.
func exactly(p netip.Prefix) *api.Prefix {
	return &api.Prefix{IpPrefix: p.String(), MaskLengthMin: uint32(p.Bits()), MaskLengthMax: uint32(p.Bits())}
}

// orLonger matches p and everything inside it.
func orLonger(p netip.Prefix) *api.Prefix {
	p = p.Masked()
	return &api.Prefix{IpPrefix: p.String(), MaskLengthMin: uint32(p.Bits()), MaskLengthMax: 32}
}

// overlapping matches every prefix that overlaps r: r and everything
// inside it, and each prefix that contains r.
func overlapping(r netip.Prefix) []*api.Prefix {
	ps := []*api.Prefix{orLonger(r)}
	for bits := range r.Bits() {
		ps = append(ps, exactly(netip.PrefixFrom(r.Addr(), bits).Masked()))
	}
	return ps
}

// validate reports what is wrong with f for Config.withDefaults.
func (f ImportFilter) validate() []error {
	var errs []error
	for _, p := range slices.Concat(f.Own, f.Accept) {
		if !p.IsValid() || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("import filter prefix %v: must be an IPv4 prefix", p))
		}
	}
	for _, a := range f.Endpoints {
		if !a.Is4() {
			errs = append(errs, fmt.Errorf("import filter endpoint %v: must be an IPv4 address", a))
		}
	}
	return errs
}

// rejectedCount is one neighbour's rejected routes, by reason, as of the
// neighbour's received-UPDATE count Updates, counted at At.
type rejectedCount struct {
	Updates  uint64
	At       time.Time
	ByReason map[Reason]int
}

// recountEvery bounds how often a neighbour's refused routes are counted:
// counting walks its whole Adj-RIB-In, which during a flood is large and
// changes with every UPDATE.
const recountEvery = 10 * time.Second

// countRejected counts, per reason, the routes in the Adj-RIB-In of the
// neighbour at addr that the import filter rejects. It reuses the last
// count while the neighbour has sent no UPDATE since, or when that count
// is younger than recountEvery.
func (s *Speaker) countRejected(ctx context.Context, bs *bounded, p *api.Peer) map[Reason]int {
	addr := p.GetState().GetNeighborAddress()
	updates := p.GetState().GetMessages().GetReceived().GetUpdate()
	s.mu.Lock()
	c, ok := s.rejected[addr]
	s.mu.Unlock()
	if ok && (c.Updates == updates || time.Since(c.At) < recountEvery) {
		return c.ByReason
	}
	f := newImportFilter(s.cfg.Import, s.cfg.Advertise)
	a, _ := netip.ParseAddr(addr)
	fromIBGP := s.cfg.isIBGP(a)
	byReason := make(map[Reason]int)
	err := bs.ListPath(ctx, &api.ListPathRequest{
		TableType: api.TableType_ADJ_IN,
		Name:      addr,
		Family:    &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
	}, func(d *api.Destination) {
		pfx, err := netip.ParsePrefix(d.Prefix)
		if err != nil || !slices.ContainsFunc(d.Paths, s.beforePolicy) {
			return
		}
		if r := f.reason(pfx, fromIBGP); r != "" {
			byReason[r]++
		}
	})
	if err != nil {
		s.log.Debug("bgp status: count rejected routes", "address", addr, "err", err)
		return c.ByReason
	}
	s.mu.Lock()
	s.rejected[addr] = rejectedCount{Updates: updates, At: time.Now(), ByReason: byReason}
	s.mu.Unlock()
	return byReason
}

// beforePolicy reports whether p reaches the import policy at all: GoBGP
// drops a path whose AS path holds our own AS (a loop: AWS passes one
// tunnel's routes, ours included, on to the others) before any policy, and
// counts it in PeerStatus.Received but not Accepted.
func (s *Speaker) beforePolicy(p *api.Path) bool {
	if p.IsWithdraw {
		return false
	}
	for _, a := range p.Pattrs {
		var as api.AsPathAttribute
		if a.MessageIs(&as) && a.UnmarshalTo(&as) == nil {
			for _, seg := range as.Segments {
				if slices.Contains(seg.Numbers, s.cfg.ASN) {
					return false
				}
			}
		}
	}
	return true
}
