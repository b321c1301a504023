package bgp

import (
	"fmt"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
)

// Names of the GoBGP defined sets and policies this package owns.
const (
	setAdvertise = "tg-advertise"
	setAWS       = "tg-aws"
	setIBGP      = "tg-ibgp"
	setHalves    = "tg-return-path"
	setOwnHalf   = "tg-share-own"
	setPeerHalf  = "tg-share-peer"
	policyImport = "tg-import"
	policyExport = "tg-export"
)

func tunnelSet(i int) string { return fmt.Sprintf("tg-tunnel-%d", i) }

// policyState is what the policies depend on besides the configuration.
// HoldReturnPath needs no policy change: the statements for the halves are
// always there, and only the paths come and go.
type policyState struct {
	Master bool
	// PeerVIP: master of the peer's virtual IP too (active-active).
	PeerVIP bool
	// PeerGone rejects everything from the iBGP peer (PeerGone).
	PeerGone bool
}

// policies builds the whole routing policy for cfg in state st. It is
// installed with SetPolicies, which keeps the global assignments, so a
// role change swaps definitions atomically and a soft reset out re-applies
// them.
//
// Export (global, evaluated per destination neighbour):
//  0. to the iBGP peer, every more-specific this speaker originates (the
//     return-path hold's, and the active-active halves): reject. The peer
//     reaches the VLAN directly; a /25 of it via us would pull its VLAN
//     traffic over to us, and FRR would pass it on to AWS.
//  1. to the iBGP peer: next-hop-self (what FRR's per-neighbour
//     next-hop-self does; GoBGP only has it as a policy action), accept.
//  2. to tunnel i, with the MED of tunnel i, accept: our advertised
//     prefixes, prepended BackupPrepend times while backup; the
//     active-active halves when locally originated, our own prepended
//     while backup of our virtual IP, the peer's while backup of its one
//     (share.go); the return-path more-specifics when locally
//     originated, never prepended (they exist to win). With ECMP nothing
//     is prepended.
//  3. to any tunnel, anything else: reject (AWS's routes are not sent
//     back to AWS, and nothing but the configured prefixes and their
//     more-specifics leaves).
//
// Import:
//  0. from the iBGP peer, while PeerGone: everything rejected.
//  1. from any neighbour, the import filter's rejections (filter.go), in
//     the order of Reasons; the iBGP peer's announcement of one of our
//     advertised prefixes is accepted before the own-prefix check (our
//     local path wins over it). The return-path halves a peer may send
//     are inside our advertised prefixes, so own-prefix rejects them.
//  2. from tunnel i, when there are several: MED of tunnel i, so the first
//     tunnel is preferred (or ECMP when MEDs are equal); accept. With a
//     single tunnel there is nothing to choose between (the iBGP peer's
//     paths lose on LOCAL_PREF first), and an untouched path is not
//     cloned by GoBGP: at 100k prefixes that is a copy of every path less.
//  3. from the iBGP peer: LOCAL_PREF 50, so our own tunnels win over the
//     peer's whatever the MEDs; accept.
func policies(cfg Config, st policyState) *api.SetPoliciesRequest {
	var b policyBuilder
	own, other := shareHalves(cfg.Advertise, cfg.Share)
	halves, _ := returnPathPrefixes(slices.Concat(cfg.Advertise, own, other))
	moreSpecific := b.moreSpecificSets(halves, own, other)
	fromIBGP := b.ibgpSet(cfg, st)
	b.importFilter(cfg, fromIBGP)
	if fromIBGP != nil {
		b.ibgpStatements(moreSpecific, fromIBGP)
	}
	if len(cfg.Advertise) > 0 {
		b.sets = append(b.sets, prefixSet(setAdvertise, cfg.Advertise))
	}
	if len(cfg.Tunnels) > 0 {
		b.tunnelStatements(cfg, st, own, other, halves)
	}
	return &api.SetPoliciesRequest{
		DefinedSets: b.sets,
		Policies: []*api.Policy{
			{Name: policyImport, Statements: b.imp},
			{Name: policyExport, Statements: b.exp},
		},
	}
}

// A policyBuilder collects the defined sets and the import and export
// statements, each list in the order GoBGP evaluates it.
type policyBuilder struct {
	sets     []*api.DefinedSet
	imp, exp []*api.Statement
}

// moreSpecific is a prefix set of more-specifics the speaker may
// originate, and its statements' name suffix.
type moreSpecific struct {
	set, suffix string
	ps          []netip.Prefix
}

// moreSpecificSets defines the sets of the return-path hold's halves and
// of the active-active halves, those that are not empty.
func (b *policyBuilder) moreSpecificSets(halves, own, other []netip.Prefix) []moreSpecific {
	var out []moreSpecific
	for _, set := range []moreSpecific{{setHalves, "-halves", halves}, {setOwnHalf, "-own-half", own}, {setPeerHalf, "-peer-half", other}} {
		if len(set.ps) > 0 {
			b.sets = append(b.sets, prefixSet(set.set, set.ps))
			out = append(out, set)
		}
	}
	return out
}

// ibgpNeighbors is the iBGP peer in a neighbour set: the configured peer,
// or the whole range, so that whichever address the peer connects from or
// SetIBGPPeer learns, the same statements apply to it.
func (c Config) ibgpNeighbors() string {
	if c.IBGPPeer.IsValid() {
		return netip.PrefixFrom(c.IBGPPeer, c.IBGPPeer.BitLen()).String()
	}
	return c.IBGPRange.String()
}

// ibgpSet defines the iBGP peer's neighbour set and rejects all it sends
// while PeerGone. It returns the match for the set, nil without iBGP.
func (b *policyBuilder) ibgpSet(cfg Config, st policyState) *api.MatchSet {
	if !cfg.ibgp() {
		return nil
	}
	b.sets = append(b.sets, &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: setIBGP, List: []string{cfg.ibgpNeighbors()}})
	fromIBGP := &api.MatchSet{Name: setIBGP, Type: api.MatchSet_ANY}
	if st.PeerGone {
		b.imp = append(b.imp, &api.Statement{
			Name:       "tg-ibgp-gone",
			Conditions: &api.Conditions{NeighborSet: fromIBGP},
			Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
		})
	}
	return fromIBGP
}

// ibgpAccept is what the iBGP peer's accepted routes get: a local
// preference below the tunnels' paths.
func ibgpAccept() *api.Actions {
	return &api.Actions{
		LocalPref:   &api.LocalPrefAction{Value: ibgpLocalPref},
		RouteAction: api.RouteAction_ACCEPT,
	}
}

// importFilter adds the import filter (filter.go) for every neighbour:
// the tunnels' AWS addresses and the iBGP peer.
func (b *policyBuilder) importFilter(cfg Config, fromIBGP *api.MatchSet) {
	peers := &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: setPeers}
	for _, t := range cfg.Tunnels {
		peers.List = append(peers.List, netip.PrefixFrom(t.Remote, t.Remote.BitLen()).String())
	}
	if cfg.ibgp() {
		peers.List = append(peers.List, cfg.ibgpNeighbors())
	}
	sets, filter := newImportFilter(cfg.Import, cfg.Advertise).statements(peers, fromIBGP, ibgpAccept())
	b.sets = append(b.sets, sets...)
	b.imp = append(b.imp, filter...)
}

// ibgpStatements: to the iBGP peer, no more-specific and next-hop-self;
// from it, the rest accepted.
func (b *policyBuilder) ibgpStatements(moreSpecific []moreSpecific, fromIBGP *api.MatchSet) {
	for _, set := range moreSpecific {
		b.exp = append(b.exp, &api.Statement{
			Name: "tg-ibgp-out" + set.suffix,
			Conditions: &api.Conditions{
				NeighborSet: fromIBGP,
				PrefixSet:   &api.MatchSet{Name: set.set, Type: api.MatchSet_ANY},
			},
			Actions: &api.Actions{RouteAction: api.RouteAction_REJECT},
		})
	}
	b.exp = append(b.exp, &api.Statement{
		Name:       "tg-ibgp-out",
		Conditions: &api.Conditions{NeighborSet: fromIBGP},
		Actions: &api.Actions{
			Nexthop:     &api.NexthopAction{Self: true},
			RouteAction: api.RouteAction_ACCEPT,
		},
	})
	b.imp = append(b.imp, &api.Statement{
		Name:       "tg-ibgp-in",
		Conditions: &api.Conditions{NeighborSet: fromIBGP},
		Actions:    ibgpAccept(),
	})
}

// tunnelStatements: what goes to each tunnel with its MED, prepended or
// not; what comes from it with its MED; nothing else to AWS.
func (b *policyBuilder) tunnelStatements(cfg Config, st policyState, own, other, halves []netip.Prefix) {
	remotes := make([]netip.Addr, len(cfg.Tunnels))
	for i, t := range cfg.Tunnels {
		remotes[i] = t.Remote
		b.sets = append(b.sets, neighborSet(tunnelSet(i), t.Remote))
		toTunnel := &api.MatchSet{Name: tunnelSet(i), Type: api.MatchSet_ANY}
		med := func() *api.MedAction { return &api.MedAction{Type: api.MedAction_REPLACE, Value: int64(t.MED)} }
		// What goes to tunnel i, and whether it is prepended: the
		// configured prefixes while backup, the own half while backup of
		// our virtual IP, the peer's half while backup of its one; the
		// hold's more-specifics never. With ECMP nothing is.
		outs := []struct {
			set, suffix string
			n           int
			prepend     bool
			local       bool
		}{
			{setAdvertise, "", len(cfg.Advertise), !st.Master, false},
			{setOwnHalf, "-own-half", len(own), !st.Master, true},
			{setPeerHalf, "-peer-half", len(other), !st.PeerVIP, true},
			{setHalves, "-halves", len(halves), false, true},
		}
		for _, o := range outs {
			if o.n == 0 {
				continue
			}
			act := &api.Actions{Med: med(), RouteAction: api.RouteAction_ACCEPT}
			if o.prepend && !cfg.ECMP && cfg.BackupPrepend > 0 {
				act.AsPrepend = &api.AsPrependAction{Asn: cfg.ASN, Repeat: uint32(cfg.BackupPrepend)}
			}
			cond := &api.Conditions{NeighborSet: toTunnel, PrefixSet: &api.MatchSet{Name: o.set, Type: api.MatchSet_ANY}}
			if o.local {
				cond.RouteType = api.Conditions_ROUTE_TYPE_LOCAL
			}
			b.exp = append(b.exp, &api.Statement{Name: fmt.Sprintf("tg-tunnel-%d-out%s", i, o.suffix), Conditions: cond, Actions: act})
		}
		if len(cfg.Tunnels) > 1 {
			b.imp = append(b.imp, &api.Statement{
				Name:       fmt.Sprintf("tg-tunnel-%d-in", i),
				Conditions: &api.Conditions{NeighborSet: toTunnel},
				Actions:    &api.Actions{Med: med(), RouteAction: api.RouteAction_ACCEPT},
			})
		}
	}
	b.sets = append(b.sets, neighborSet(setAWS, remotes...))
	b.exp = append(b.exp, &api.Statement{
		Name:       "tg-aws-reject",
		Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Name: setAWS, Type: api.MatchSet_ANY}},
		Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
	})
}

func prefixSet(name string, ps []netip.Prefix) *api.DefinedSet {
	ds := &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: name}
	for _, p := range ps {
		ds.Prefixes = append(ds.Prefixes, &api.Prefix{
			IpPrefix:      p.String(),
			MaskLengthMin: uint32(p.Bits()),
			MaskLengthMax: uint32(p.Bits()),
		})
	}
	return ds
}

func neighborSet(name string, addrs ...netip.Addr) *api.DefinedSet {
	ds := &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: name}
	for _, a := range addrs {
		ds.List = append(ds.List, netip.PrefixFrom(a, a.BitLen()).String())
	}
	return ds
}

// assignments attach the two policies to the global RIB.
func assignments() []*api.PolicyAssignment {
	return []*api.PolicyAssignment{
		{Name: "global", Direction: api.PolicyDirection_IMPORT, Policies: []*api.Policy{{Name: policyImport}}, DefaultAction: api.RouteAction_ACCEPT},
		{Name: "global", Direction: api.PolicyDirection_EXPORT, Policies: []*api.Policy{{Name: policyExport}}, DefaultAction: api.RouteAction_ACCEPT},
	}
}
