package status

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLimitRoutes(t *testing.T) {
	rs := []Route{{Prefix: "10.0.10.0/24"}, {Prefix: "10.0.9.0/24"}, {Prefix: "10.0.9.0/23"}, {Prefix: "9.0.0.0/8"}, {Prefix: "10.0.0.0/8"}}
	for _, tc := range []struct {
		max  int
		want []string
	}{
		{0, []string{"9.0.0.0/8", "10.0.0.0/8", "10.0.9.0/23", "10.0.9.0/24", "10.0.10.0/24"}},
		{1, []string{"9.0.0.0/8"}},
		{2, []string{"9.0.0.0/8", "10.0.0.0/8"}},
		{3, []string{"9.0.0.0/8", "10.0.0.0/8", "10.0.9.0/23"}},
		{5, []string{"9.0.0.0/8", "10.0.0.0/8", "10.0.9.0/23", "10.0.9.0/24", "10.0.10.0/24"}},
		{9, []string{"9.0.0.0/8", "10.0.0.0/8", "10.0.9.0/23", "10.0.9.0/24", "10.0.10.0/24"}},
	} {
		kept, total := limitRoutes(rs, tc.max)
		var got []string
		for _, r := range kept {
			got = append(got, r.Prefix)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || total != len(rs) {
			t.Errorf("limitRoutes(%d): total %d (-want +got):\n%s", tc.max, total, diff)
		}
	}
	if rs[0].Prefix != "10.0.10.0/24" {
		t.Errorf("limitRoutes reordered its argument")
	}
}

// manyRoutes returns n routes with two next hops each, in descending
// prefix order.
func manyRoutes(n int) []Route {
	rs := make([]Route, n)
	for i := range n {
		a := netip.AddrFrom4([4]byte{byte(10 + i>>16), byte(i >> 8), byte(i), 0})
		rs[n-1-i] = Route{Prefix: netip.PrefixFrom(a, 24).String(), Metric: 20, NextHops: []NextHop{
			{Gateway: "169.254.80.145", Interface: "xfrm1"},
			{Gateway: "10.0.1.3", Interface: "eth1", Weight: 2},
		}}
	}
	return rs
}

// TestManyRoutes is a gateway holding 100k BGP routes, whether the Routes
// func or the gateway's own snapshot lists them: /status stays small,
// lists the first MaxRoutes by prefix and counts them all.
func TestManyRoutes(t *testing.T) {
	const n = 100_000
	const bound = 512 << 10
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"Routes func", Config{
			Status: func() Document { d := masterDoc(); d.Routes = nil; return d },
			Routes: func() ([]Route, error) { return manyRoutes(n), nil },
		}},
		{"in the snapshot", Config{
			Status: func() Document { d := masterDoc(); d.Routes = manyRoutes(n); return d },
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveTCP(t, newServer(t, tc.cfg))
			code, body, _ := get(t, "http://"+addr+"/status")
			if code != http.StatusOK {
				t.Fatalf("GET /status: %d", code)
			}
			t.Logf("/status: %d bytes", len(body))
			if len(body) > bound {
				t.Errorf("/status is %d bytes with %d routes, want at most %d", len(body), n, bound)
			}
			var d Document
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatal(err)
			}
			if d.RoutesTotal != n || !d.RoutesTruncated || len(d.Routes) != MaxRoutes {
				t.Fatalf("routes_total %d, truncated %v, %d listed; want %d, true, %d", d.RoutesTotal, d.RoutesTruncated, len(d.Routes), n, MaxRoutes)
			}
			if d.Routes[0].Prefix != "10.0.0.0/24" || d.Routes[MaxRoutes-1].Prefix != "10.3.231.0/24" {
				t.Errorf("listed %s .. %s, want the first by prefix, 10.0.0.0/24 .. 10.3.231.0/24", d.Routes[0].Prefix, d.Routes[MaxRoutes-1].Prefix)
			}
			var out strings.Builder
			if err := WriteRoutes(&out, &d); err != nil {
				t.Fatal(err)
			}
			if want := "\n100000 routes installed by BGP (protocol bgp, main table),\nof which the first 1000 by prefix are shown\n"; !strings.HasSuffix(out.String(), want) {
				t.Errorf("show routes ends %q, want %q", lastLines(out.String(), 2), want)
			}
		})
	}
}

// TestFewRoutesNotTruncated: a table under the cap is listed whole and not
// flagged.
func TestFewRoutesNotTruncated(t *testing.T) {
	addr := serveTCP(t, newServer(t, Config{
		Status: func() Document { d := masterDoc(); d.Routes = nil; return d },
		Routes: func() ([]Route, error) { return manyRoutes(MaxRoutes), nil },
	}))
	_, body, _ := get(t, "http://"+addr+"/status")
	var d Document
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.RoutesTotal != MaxRoutes || d.RoutesTruncated || len(d.Routes) != MaxRoutes {
		t.Errorf("routes_total %d, truncated %v, %d listed; want %d, false, %d", d.RoutesTotal, d.RoutesTruncated, len(d.Routes), MaxRoutes, MaxRoutes)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
