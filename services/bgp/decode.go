package bgp

import (
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// pathDecoder turns GoBGP's best-path events into per-prefix next-hop
// sets. GoBGP hands every best path over in its API form, each NLRI and
// attribute a protobuf Any; the two fields we need (prefix, next hop) are
// read straight from the Any's bytes with protowire rather than through
// UnmarshalTo, which would allocate a message and its strings for every
// path of a 100k-prefix table. A decoder is used from the watcher's
// goroutine only: its result is valid until the next call.
type pathDecoder struct {
	peers map[string]peer // by neighbour address
	// ibgpRange is Config.IBGPRange: paths from any address of it come
	// from the iBGP peer, reached through ibgpDev (see ibgp.go).
	ibgpRange netip.Prefix
	ibgpDev   string
	// lastIBGP is the last neighbour found in ibgpRange, so that the
	// peer's thousands of paths are not each parsed.
	lastIBGP string
	ups      []update
	hops     []nexthop
	first    int // index in hops of the last update's first hop
}

// The protobuf names of the two messages we read, as in Any type URLs.
var (
	prefixName  = string((&api.IPAddressPrefix{}).ProtoReflect().Descriptor().FullName())
	nextHopName = string((&api.NextHopAttribute{}).ProtoReflect().Descriptor().FullName())
)

// Field numbers in gobgp.proto / attribute.proto.
const (
	prefixLenField = 1 // IPAddressPrefix.prefix_len
	prefixField    = 2 // IPAddressPrefix.prefix
	nextHopField   = 1 // NextHopAttribute.next_hop
)

// updates decodes one event. With multipath on, GoBGP sends, for each
// changed destination, the complete new set of equal best paths, or a
// single withdrawal when none is left.
func (d *pathDecoder) updates(paths []*api.Path) []update {
	d.ups, d.hops, d.first = d.ups[:0], d.hops[:0], 0
	for _, p := range paths {
		prefix, ok := decodePrefix(p.GetNlri())
		if !ok {
			continue // not IPv4 unicast
		}
		if n := len(d.ups); n == 0 || d.ups[n-1].Prefix != prefix {
			d.closeLast()
			d.ups = append(d.ups, update{Prefix: prefix})
		}
		if p.IsWithdraw {
			continue
		}
		from, ok := d.peers[p.NeighborIp]
		if !ok {
			from, ok = d.inRange(p.NeighborIp)
		}
		if !ok {
			// Our own prefixes (no neighbour) are not routed by us.
			continue
		}
		gw := decodeNextHop(p.Pattrs)
		if !gw.IsValid() {
			continue
		}
		d.hops = append(d.hops, nexthop{Gw: gw, Dev: from.Dev, AWS: from.Tunnel >= 0})
	}
	d.closeLast()
	return d.ups
}

// inRange returns the iBGP peer when addr is in the iBGP range.
func (d *pathDecoder) inRange(addr string) (peer, bool) {
	if !d.ibgpRange.IsValid() || addr == "" {
		return peer{}, false
	}
	if addr != d.lastIBGP {
		a, err := netip.ParseAddr(addr)
		if err != nil || !d.ibgpRange.Contains(a) {
			return peer{}, false
		}
		d.lastIBGP = addr
	}
	return peer{Name: "ibgp", Tunnel: -1, Dev: d.ibgpDev}, true
}

// closeLast gives the last update the hops decoded since the one before.
// They are sliced out of d.hops only once a prefix is complete, as
// appending may move d.hops.
func (d *pathDecoder) closeLast() {
	if n := len(d.ups); n > 0 {
		d.ups[n-1].Hops = d.hops[d.first:len(d.hops):len(d.hops)]
		d.first = len(d.hops)
	}
}

// decodePrefix reads an IPv4 unicast NLRI (apipb.IPAddressPrefix).
func decodePrefix(a *anypb.Any) (netip.Prefix, bool) {
	if !isMessage(a, prefixName) {
		return netip.Prefix{}, false
	}
	var (
		bits     uint64
		addr     netip.Addr
		haveAddr bool
		b        = a.GetValue()
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return netip.Prefix{}, false
		}
		b = b[n:]
		switch {
		case num == prefixLenField && typ == protowire.VarintType:
			bits, n = protowire.ConsumeVarint(b)
		case num == prefixField && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			haveAddr = n >= 0 && addr.UnmarshalText(v) == nil
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return netip.Prefix{}, false
		}
		b = b[n:]
	}
	if !haveAddr || !addr.Is4() || bits > 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, int(bits)).Masked(), true
}

// decodeNextHop returns the NEXT_HOP attribute's address, if any.
func decodeNextHop(attrs []*anypb.Any) netip.Addr {
	for _, a := range attrs {
		if !isMessage(a, nextHopName) {
			continue
		}
		b := a.GetValue()
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				break
			}
			b = b[n:]
			if num == nextHopField && typ == protowire.BytesType {
				v, n := protowire.ConsumeBytes(b)
				var addr netip.Addr
				if n >= 0 && addr.UnmarshalText(v) == nil && addr.IsValid() {
					return addr.Unmap()
				}
				break
			}
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				break
			}
			b = b[n:]
		}
	}
	return netip.Addr{}
}

// isMessage reports whether a holds the message named name; a type URL
// ends in "/" and the message's full name.
func isMessage(a *anypb.Any, name string) bool {
	url := a.GetTypeUrl()
	return len(url) > len(name) && url[len(url)-len(name)-1] == '/' && url[len(url)-len(name):] == name
}
