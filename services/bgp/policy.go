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
	req := &api.SetPoliciesRequest{}
	var exp, imp []*api.Statement

	own, other := shareHalves(cfg.Advertise, cfg.Share)
	halves, _ := returnPathPrefixes(slices.Concat(cfg.Advertise, own, other))
	// Every more-specific the speaker may originate: none goes to the
	// iBGP peer.
	type prefixes struct {
		set, suffix string // the defined set, its statements' name suffix
		ps          []netip.Prefix
	}
	var moreSpecific []prefixes
	for _, set := range []prefixes{{setHalves, "-halves", halves}, {setOwnHalf, "-own-half", own}, {setPeerHalf, "-peer-half", other}} {
		if len(set.ps) > 0 {
			req.DefinedSets = append(req.DefinedSets, prefixSet(set.set, set.ps))
			moreSpecific = append(moreSpecific, set)
		}
	}

	// Every neighbour, for the import filter: the tunnels' AWS addresses
	// and the iBGP peer (its address, or the whole range).
	peers := &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: setPeers}
	for _, t := range cfg.Tunnels {
		peers.List = append(peers.List, netip.PrefixFrom(t.Remote, t.Remote.BitLen()).String())
	}
	var fromIBGP *api.MatchSet
	ibgpAccept := &api.Actions{
		LocalPref:   &api.LocalPrefAction{Value: ibgpLocalPref},
		RouteAction: api.RouteAction_ACCEPT,
	}
	if cfg.ibgp() {
		// The configured peer, or the whole range: whichever address the
		// peer connects from or SetIBGPPeer learns, the same statements
		// apply to it.
		nbrs := cfg.IBGPRange
		if cfg.IBGPPeer.IsValid() {
			nbrs = netip.PrefixFrom(cfg.IBGPPeer, cfg.IBGPPeer.BitLen())
		}
		peers.List = append(peers.List, nbrs.String())
		req.DefinedSets = append(req.DefinedSets, &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: setIBGP, List: []string{nbrs.String()}})
		fromIBGP = &api.MatchSet{Name: setIBGP, Type: api.MatchSet_ANY}
		if st.PeerGone {
			imp = append(imp, &api.Statement{
				Name:       "tg-ibgp-gone",
				Conditions: &api.Conditions{NeighborSet: fromIBGP},
				Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
			})
		}
	}
	sets, filter := newImportFilter(cfg.Import, cfg.Advertise).statements(peers, fromIBGP, ibgpAccept)
	req.DefinedSets = append(req.DefinedSets, sets...)
	imp = append(imp, filter...)

	if cfg.ibgp() {
		for _, set := range moreSpecific {
			exp = append(exp, &api.Statement{
				Name: "tg-ibgp-out" + set.suffix,
				Conditions: &api.Conditions{
					NeighborSet: &api.MatchSet{Name: setIBGP, Type: api.MatchSet_ANY},
					PrefixSet:   &api.MatchSet{Name: set.set, Type: api.MatchSet_ANY},
				},
				Actions: &api.Actions{RouteAction: api.RouteAction_REJECT},
			})
		}
		exp = append(exp, &api.Statement{
			Name:       "tg-ibgp-out",
			Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Name: setIBGP, Type: api.MatchSet_ANY}},
			Actions: &api.Actions{
				Nexthop:     &api.NexthopAction{Self: true},
				RouteAction: api.RouteAction_ACCEPT,
			},
		})
		imp = append(imp, &api.Statement{
			Name:       "tg-ibgp-in",
			Conditions: &api.Conditions{NeighborSet: fromIBGP},
			Actions:    ibgpAccept,
		})
	}

	if len(cfg.Advertise) > 0 {
		req.DefinedSets = append(req.DefinedSets, prefixSet(setAdvertise, cfg.Advertise))
	}

	if len(cfg.Tunnels) > 0 {
		remotes := make([]netip.Addr, len(cfg.Tunnels))
		for i, t := range cfg.Tunnels {
			remotes[i] = t.Remote
			req.DefinedSets = append(req.DefinedSets, neighborSet(tunnelSet(i), t.Remote))
			// What goes to tunnel i, and whether it is prepended: the
			// configured prefixes while backup, the own half while
			// backup of our virtual IP, the peer's half while backup of
			// its one; the hold's more-specifics never. With ECMP
			// nothing is.
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
				act := &api.Actions{
					Med:         &api.MedAction{Type: api.MedAction_REPLACE, Value: int64(t.MED)},
					RouteAction: api.RouteAction_ACCEPT,
				}
				if o.prepend && !cfg.ECMP && cfg.BackupPrepend > 0 {
					act.AsPrepend = &api.AsPrependAction{Asn: cfg.ASN, Repeat: uint32(cfg.BackupPrepend)}
				}
				cond := &api.Conditions{
					NeighborSet: &api.MatchSet{Name: tunnelSet(i), Type: api.MatchSet_ANY},
					PrefixSet:   &api.MatchSet{Name: o.set, Type: api.MatchSet_ANY},
				}
				if o.local {
					cond.RouteType = api.Conditions_ROUTE_TYPE_LOCAL
				}
				exp = append(exp, &api.Statement{Name: fmt.Sprintf("tg-tunnel-%d-out%s", i, o.suffix), Conditions: cond, Actions: act})
			}
			if len(cfg.Tunnels) > 1 {
				imp = append(imp, &api.Statement{
					Name:       fmt.Sprintf("tg-tunnel-%d-in", i),
					Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Name: tunnelSet(i), Type: api.MatchSet_ANY}},
					Actions: &api.Actions{
						Med:         &api.MedAction{Type: api.MedAction_REPLACE, Value: int64(t.MED)},
						RouteAction: api.RouteAction_ACCEPT,
					},
				})
			}
		}
		req.DefinedSets = append(req.DefinedSets, neighborSet(setAWS, remotes...))
		exp = append(exp, &api.Statement{
			Name:       "tg-aws-reject",
			Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Name: setAWS, Type: api.MatchSet_ANY}},
			Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
		})
	}

	req.Policies = []*api.Policy{
		{Name: policyImport, Statements: imp},
		{Name: policyExport, Statements: exp},
	}
	return req
}

// prefixSet matches exactly the prefixes ps (no longer ones).
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
