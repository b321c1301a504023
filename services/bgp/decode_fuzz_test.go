package bgp

import (
	"net/netip"
	"reflect"
	"testing"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// FuzzPathDecoder feeds the path decoder arbitrary bytes where GoBGP's
// NLRI and NEXT_HOP messages go: they carry what a peer announced, read
// with protowire rather than proto.Unmarshal. Properties: no panic; a
// prefix or next hop it reads is what proto.Unmarshal reads from the same
// message (on its canonical encoding, where duplicate fields cannot make
// the two disagree); every update is a masked IPv4 prefix with valid next
// hops through known devices; and a reused decoder gives the same result
// for the same paths.
func FuzzPathDecoder(f *testing.F) {
	mustMarshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(mustMarshal(&api.IPAddressPrefix{Prefix: "10.20.0.0", PrefixLen: 16}), mustMarshal(&api.NextHopAttribute{NextHop: "169.254.10.1"}), "169.254.10.1", false)
	f.Add(mustMarshal(&api.IPAddressPrefix{Prefix: "10.20.0.0", PrefixLen: 16}), mustMarshal(&api.NextHopAttribute{NextHop: "10.0.1.3"}), "10.0.1.7", false)
	f.Add(mustMarshal(&api.IPAddressPrefix{Prefix: "2001:db8::", PrefixLen: 32}), mustMarshal(&api.NextHopAttribute{NextHop: "::ffff:10.0.1.3"}), "169.254.11.1", true)

	newDecoder := func() *pathDecoder {
		return &pathDecoder{peers: map[string]peer{
			"169.254.10.1": {Name: "t1", Tunnel: 0, Dev: "vti1"},
			"169.254.11.1": {Name: "t2", Tunnel: 1, Dev: "vti2"},
		}, ibgpRange: netip.MustParsePrefix("10.0.1.0/24"), ibgpDev: "eth1"}
	}
	devs := map[string]bool{"vti1": true, "vti2": true, "eth1": true}

	f.Fuzz(func(t *testing.T, nlri, nh []byte, neighbor string, withdraw bool) {
		prefixAny := &anypb.Any{TypeUrl: "type.googleapis.com/" + prefixName, Value: nlri}
		nhAny := &anypb.Any{TypeUrl: "type.googleapis.com/" + nextHopName, Value: nh}

		// The prefix, against proto.Unmarshal.
		p, ok := decodePrefix(prefixAny)
		if ok && (!p.Addr().Is4() || p != p.Masked()) {
			t.Fatalf("decodePrefix = %v: not a masked IPv4 prefix", p)
		}
		var msg api.IPAddressPrefix
		if proto.Unmarshal(nlri, &msg) == nil {
			a, err := netip.ParseAddr(msg.Prefix)
			want := err == nil && a.Is4() && msg.PrefixLen <= 32
			if ok && (!want || netip.PrefixFrom(a, int(msg.PrefixLen)).Masked() != p) {
				t.Fatalf("decodePrefix = %v, proto.Unmarshal %q/%d", p, msg.Prefix, msg.PrefixLen)
			}
			canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(&msg)
			if err != nil {
				t.Fatal(err)
			}
			cp, cok := decodePrefix(&anypb.Any{TypeUrl: prefixAny.TypeUrl, Value: canon})
			if cok != want || want && cp != netip.PrefixFrom(a, int(msg.PrefixLen)).Masked() {
				t.Fatalf("canonical %q/%d: decodePrefix = %v, %v", msg.Prefix, msg.PrefixLen, cp, cok)
			}
		}

		// The next hop, likewise.
		gw := decodeNextHop([]*anypb.Any{nhAny})
		if gw.IsValid() && gw.Is4In6() {
			t.Fatalf("decodeNextHop = %v: not unmapped", gw)
		}
		var hop api.NextHopAttribute
		if proto.Unmarshal(nh, &hop) == nil {
			canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(&hop)
			if err != nil {
				t.Fatal(err)
			}
			var want netip.Addr
			if a, err := netip.ParseAddr(hop.NextHop); err == nil {
				want = a.Unmap()
			}
			if got := decodeNextHop([]*anypb.Any{{TypeUrl: nhAny.TypeUrl, Value: canon}}); got != want {
				t.Fatalf("canonical %q: decodeNextHop = %v, want %v", hop.NextHop, got, want)
			}
		}

		// Whole batches through one decoder, reused.
		paths := []*api.Path{
			{Nlri: prefixAny, Pattrs: []*anypb.Any{nhAny}, NeighborIp: neighbor, IsWithdraw: withdraw},
			{Nlri: prefixAny, Pattrs: []*anypb.Any{nhAny}, NeighborIp: "10.0.1.3", IsWithdraw: !withdraw},
			{Nlri: prefixAny, Pattrs: []*anypb.Any{nhAny, nhAny}, NeighborIp: "169.254.10.1"},
			{Nlri: nhAny, Pattrs: []*anypb.Any{prefixAny}, NeighborIp: neighbor},
		}
		d := newDecoder()
		first := cloneUpdates(d.updates(paths))
		checkFuzzUpdates(t, first, len(paths), devs)
		_ = d.updates(paths[:1])
		_ = d.updates(paths[3:])
		if again := cloneUpdates(d.updates(paths)); !reflect.DeepEqual(first, again) {
			t.Fatalf("a reused decoder changed its mind:\n%+v\n%+v", first, again)
		}
		if fresh := newDecoder().updates(paths); !reflect.DeepEqual(first, cloneUpdates(fresh)) {
			t.Fatalf("a fresh decoder disagrees:\n%+v\n%+v", first, fresh)
		}
	})
}

// cloneUpdates copies updates out of the decoder's reused buffers.
func cloneUpdates(ups []update) []update {
	out := make([]update, len(ups))
	for i, u := range ups {
		out[i] = update{Prefix: u.Prefix, Hops: append([]nexthop{}, u.Hops...)}
	}
	return out
}

func checkFuzzUpdates(t *testing.T, ups []update, paths int, devs map[string]bool) {
	t.Helper()
	if len(ups) > paths {
		t.Fatalf("%d updates from %d paths", len(ups), paths)
	}
	hops := 0
	for i, u := range ups {
		if !u.Prefix.Addr().Is4() || u.Prefix != u.Prefix.Masked() {
			t.Fatalf("update %d: prefix %v", i, u.Prefix)
		}
		if i > 0 && ups[i-1].Prefix == u.Prefix {
			t.Fatalf("updates %d and %d: one prefix, %v, not merged", i-1, i, u.Prefix)
		}
		for _, h := range u.Hops {
			if !h.Gw.IsValid() || h.Gw.Is4In6() || !devs[h.Dev] {
				t.Fatalf("update %d: next hop %+v", i, h)
			}
		}
		hops += len(u.Hops)
	}
	if hops > paths {
		t.Fatalf("%d next hops from %d paths", hops, paths)
	}
}
