package bgp

import (
	"net/netip"
	"reflect"
	"testing"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestPathDecoder(t *testing.T) {
	any := func(msg proto.Message) *anypb.Any {
		a, err := anypb.New(msg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	path := func(prefix string, bits uint32, nh, from string, withdraw bool) *api.Path {
		p := &api.Path{
			Nlri:       any(&api.IPAddressPrefix{Prefix: prefix, PrefixLen: bits}),
			NeighborIp: from,
			IsWithdraw: withdraw,
			Pattrs: []*anypb.Any{
				any(&api.OriginAttribute{Origin: 0}),
				any(&api.AsPathAttribute{Segments: []*api.AsSegment{{Type: 2, Numbers: []uint32{64512}}}}),
			},
		}
		if nh != "" {
			p.Pattrs = append(p.Pattrs, any(&api.NextHopAttribute{NextHop: nh}), any(&api.MultiExitDiscAttribute{Med: 10}))
		}
		return p
	}
	d := pathDecoder{peers: map[string]peer{
		"169.254.10.1": {Name: "t1", Tunnel: 0, Dev: "vti1"},
		"169.254.11.1": {Name: "t2", Tunnel: 1, Dev: "vti2"},
		"10.0.1.3":     {Name: "ibgp", Tunnel: -1, Dev: "eth1"},
	}, ibgpRange: netip.MustParsePrefix("10.0.1.0/24"), ibgpDev: "eth1"}
	t1 := nexthop{Gw: netip.MustParseAddr("169.254.10.1"), Dev: "vti1", AWS: true}
	t2 := nexthop{Gw: netip.MustParseAddr("169.254.11.1"), Dev: "vti2", AWS: true}
	pfx := netip.MustParsePrefix("10.20.0.0/16")
	tests := []struct {
		name  string
		paths []*api.Path
		want  []update
	}{
		{
			name:  "one path",
			paths: []*api.Path{path("10.20.0.0", 16, "169.254.10.1", "169.254.10.1", false)},
			want:  []update{{Prefix: pfx, Hops: []nexthop{t1}}},
		},
		{
			name: "ECMP",
			paths: []*api.Path{
				path("10.20.0.0", 16, "169.254.10.1", "169.254.10.1", false),
				path("10.20.0.0", 16, "169.254.11.1", "169.254.11.1", false),
			},
			want: []update{{Prefix: pfx, Hops: []nexthop{t1, t2}}},
		},
		{
			name: "two prefixes",
			paths: []*api.Path{
				path("10.20.0.0", 16, "169.254.10.1", "169.254.10.1", false),
				path("10.30.0.0", 24, "10.0.1.3", "10.0.1.3", false),
				path("10.30.0.0", 24, "169.254.11.1", "169.254.11.1", false),
			},
			want: []update{
				{Prefix: pfx, Hops: []nexthop{t1}},
				{Prefix: netip.MustParsePrefix("10.30.0.0/24"), Hops: []nexthop{{Gw: netip.MustParseAddr("10.0.1.3"), Dev: "eth1"}, t2}},
			},
		},
		{
			name:  "withdrawn",
			paths: []*api.Path{path("10.20.0.0", 16, "", "169.254.10.1", true)},
			want:  []update{{Prefix: pfx, Hops: []nexthop{}}},
		},
		{
			name:  "ours (no neighbour)",
			paths: []*api.Path{path("10.0.1.0", 24, "0.0.0.0", "", false)},
			want:  []update{{Prefix: netip.MustParsePrefix("10.0.1.0/24"), Hops: []nexthop{}}},
		},
		{
			// A peer whose address was not configured (Config.IBGPRange).
			name: "from the iBGP range",
			paths: []*api.Path{
				path("10.20.0.0", 16, "10.0.1.7", "10.0.1.7", false),
				path("10.30.0.0", 24, "10.0.1.7", "10.0.1.7", false),
			},
			want: []update{
				{Prefix: pfx, Hops: []nexthop{{Gw: netip.MustParseAddr("10.0.1.7"), Dev: "eth1"}}},
				{Prefix: netip.MustParsePrefix("10.30.0.0/24"), Hops: []nexthop{{Gw: netip.MustParseAddr("10.0.1.7"), Dev: "eth1"}}},
			},
		},
		{
			name:  "unknown neighbour",
			paths: []*api.Path{path("10.20.0.0", 16, "192.0.2.1", "192.0.2.1", false)},
			want:  []update{{Prefix: pfx, Hops: []nexthop{}}},
		},
		{
			name:  "host bits masked",
			paths: []*api.Path{path("10.20.1.1", 16, "169.254.10.1", "169.254.10.1", false)},
			want:  []update{{Prefix: pfx, Hops: []nexthop{t1}}},
		},
		{
			name:  "IPv6 ignored",
			paths: []*api.Path{path("2001:db8::", 32, "169.254.10.1", "169.254.10.1", false)},
		},
		{
			name:  "no next hop",
			paths: []*api.Path{path("10.20.0.0", 16, "", "169.254.10.1", false)},
			want:  []update{{Prefix: pfx, Hops: []nexthop{}}},
		},
		{
			name: "not an IP prefix",
			paths: []*api.Path{{
				Nlri:       any(&api.LabeledIPAddressPrefix{Prefix: "10.20.0.0", PrefixLen: 16}),
				NeighborIp: "169.254.10.1",
				Pattrs:     []*anypb.Any{any(&api.NextHopAttribute{NextHop: "169.254.10.1"})},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.updates(tt.paths)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("updates = %+v, want %+v", got, tt.want)
			}
		})
	}
}

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
