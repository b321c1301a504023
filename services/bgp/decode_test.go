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
