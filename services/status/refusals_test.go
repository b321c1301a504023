package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// The protections at the trust boundaries (the README's "Trust
// boundaries": BGP import filter and max-prefix, the VRRP peer, the packet
// filter) are visible in /status, /metrics and the show commands.

// TestStatusRoundTrip: every fixture, the refusals included, comes back
// whole through a real server and the Client.
func TestStatusRoundTrip(t *testing.T) {
	for name, doc := range map[string]func() Document{"master": masterDoc, "backup": backupDoc, "configuring": configuringDoc} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, Config{Status: doc})
			got := clientStatus(t, ts.URL)
			want := doc()
			// What the server adds: the routes' count, and an empty list
			// (the fixture's nil asks for the kernel's, here none).
			want.RoutesTotal = len(want.Routes)
			if want.Routes == nil && want.RoutesError == "" {
				want.Routes = []Route{}
			}
			if diff := cmp.Diff(&want, got, cmp.Comparer(func(a, b []Route) bool {
				return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b))
			})); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatusRefusalKeys: the JSON keys monitoring reads, by path.
func TestStatusRefusalKeys(t *testing.T) {
	for _, tc := range []struct {
		doc  func() Document
		path string
		want any
	}{
		{masterDoc, "bgp.max_prefixes", 12000.0},
		{masterDoc, "bgp.peers.0.rejected.too-short", 3.0},
		{masterDoc, "bgp.peers.0.rejected.reserved", 0.0},
		{masterDoc, "bgp.peers.0.max_prefix_teardowns", 1.0},
		{masterDoc, "vrrp.peer_address", "10.0.1.3"},
		{masterDoc, "vrrp.peer_learned", true},
		{masterDoc, "firewall.dropped.uplink", 18734.0},
		{masterDoc, "firewall.dropped.other", 0.0},
		{backupDoc, "bgp.peers.0.retry_at", "2026-11-25T20:02:05Z"},
		{backupDoc, "vrrp.peer_learned", false},
	} {
		ts := newTestServer(t, Config{Status: tc.doc})
		_, body, _ := get(t, ts.URL+"/status")
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		if got, ok := lookup(m, tc.path); !ok || got != tc.want {
			t.Errorf("%s = %v (present %v), want %v", tc.path, got, ok, tc.want)
		}
	}
	// Without a packet filter (standalone) there is no firewall section,
	// and a peer that was never torn down has no retry time.
	ts := newTestServer(t, Config{Status: backupDoc})
	_, body, _ := get(t, ts.URL+"/status")
	for _, absent := range []string{`"firewall"`, `"retry_at": "0001`} {
		if strings.Contains(body, absent) {
			t.Errorf("/status of backupDoc has %s:\n%s", absent, body)
		}
	}
}

// TestRefusalMetrics: the values, and a series for every reason and
// interface class from the start (0 when none), so that rate() and
// alerts work before the first refusal.
func TestRefusalMetrics(t *testing.T) {
	master := gather(t, masterDoc)
	for series, want := range map[string]float64{
		`tidegate_bgp_max_prefixes`:                                       12000,
		`tidegate_bgp_rejected_routes{peer="vpn-1a",reason="too-short"}`:  3,
		`tidegate_bgp_rejected_routes{peer="vpn-1a",reason="own-prefix"}`: 4,
		`tidegate_bgp_rejected_routes{peer="vpn-1a",reason="reserved"}`:   0,
		`tidegate_bgp_rejected_routes{peer="ibgp",reason="not-accepted"}`: 0,
		`tidegate_bgp_rejected_routes{peer="vpn-1b",reason="endpoint"}`:   0,
		`tidegate_bgp_max_prefix_teardowns_total{peer="vpn-1a"}`:          1,
		`tidegate_bgp_max_prefix_teardowns_total{peer="ibgp"}`:            0,
		`tidegate_bgp_max_prefix_retry_timestamp_seconds{peer="vpn-1a"}`:  0,
		`tidegate_firewall_dropped_packets_total{interface="uplink"}`:     18734,
		`tidegate_firewall_dropped_packets_total{interface="vlan"}`:       3,
		`tidegate_firewall_dropped_packets_total{interface="tunnel"}`:     0,
		`tidegate_firewall_dropped_packets_total{interface="other"}`:      0,
		`tidegate_firewall_dropped_packets_total{interface="forward"}`:    7,
		`tidegate_vrrp_adverts_dropped_total{reason="peer",vrid="10"}`:    5,
	} {
		if got, ok := master[series]; !ok || got != want {
			t.Errorf("master: %s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if n := count(master, "tidegate_bgp_rejected_routes{"); n != 3*5 {
		t.Errorf("master: %d tidegate_bgp_rejected_routes series, want 3 peers × 5 reasons", n)
	}

	backup := gather(t, backupDoc)
	for series, want := range map[string]float64{
		`tidegate_bgp_max_prefixes`:                                      500,
		`tidegate_bgp_max_prefix_teardowns_total{peer="vpn-2a"}`:         3,
		`tidegate_bgp_max_prefix_retry_timestamp_seconds{peer="vpn-2a"}`: float64(t0.Unix() + 125),
		`tidegate_bgp_max_prefix_retry_timestamp_seconds{peer="ibgp"}`:   0,
	} {
		if got, ok := backup[series]; !ok || got != want {
			t.Errorf("backup: %s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if n := count(backup, "tidegate_firewall_"); n != 0 {
		t.Errorf("backup (no packet filter): %d firewall series", n)
	}

}

// gather collects doc's metrics as "name{label="value",...}" -> value.
func gather(t *testing.T, doc func() Document) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(newCollector(doc)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

func count(series map[string]float64, prefix string) int {
	n := 0
	for s := range series {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestRenderRefusals: the show commands' lines for the states the
// fixtures do not cover.
func TestRenderRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		write   func(io.Writer, *Document) error
		edit    func(*Document)
		want    []string
		notWant []string
	}{
		{
			name:  "nothing dropped",
			write: WriteStatus,
			edit: func(d *Document) {
				d.Firewall = &Firewall{Dropped: map[string]uint64{"uplink": 0, "vlan": 0}}
			},
			want: []string{"Firewall     nothing dropped\n"},
		},
		{
			name:    "no packet filter",
			write:   WriteStatus,
			edit:    func(d *Document) { d.Firewall = nil },
			notWant: []string{"Firewall"},
		},
		{
			name:  "retry due",
			write: WriteBGP,
			edit: func(d *Document) {
				d.BGP.Peers[1].MaxPrefixTeardowns, d.BGP.Peers[1].RetryAt = 7, d.Time
			},
			want: []string{"Idle (PfxCt)", "vpn-1b torn down 7 times for max-prefix 12000; retry due\n"},
		},
		{
			name:  "long back-off, no limit known",
			write: WriteBGP,
			edit: func(d *Document) {
				d.BGP.MaxPrefixes = 0
				d.BGP.Peers[2].MaxPrefixTeardowns, d.BGP.Peers[2].RetryAt = 2, d.Time.Add(10*time.Minute)
			},
			want:    []string{"ibgp torn down 2 times for max-prefix; retry in 10m00s\n"},
			notWant: []string{"Maximum prefixes"},
		},
		{
			name:    "nothing refused",
			write:   WriteBGP,
			edit:    func(d *Document) { d.BGP.Peers[0].Rejected, d.BGP.Peers[0].MaxPrefixTeardowns = rejected(nil), 0 },
			want:    []string{"Total number of neighbors 3\n"},
			notWant: []string{"rejected", "torn down", "PfxCt"},
		},
		{
			name:  "peer not learned yet",
			write: WriteVRRP,
			edit:  func(d *Document) { d.VRRP.PeerAddress, d.VRRP.PeerLearned = "", false },
			want:  []string{"Peer            not known yet (learned from its first valid advert)\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := masterDoc()
			tc.edit(&d)
			var buf bytes.Buffer
			if err := tc.write(&buf, &d); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("has %q:\n%s", w, out)
				}
			}
			if strings.HasSuffix(out, "\n\n") {
				t.Errorf("ends in an empty line:\n%s", out)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {400 * time.Millisecond, "0s"}, {25 * time.Second, "25s"}, {59600 * time.Millisecond, "1m00s"},
		{125 * time.Second, "2m05s"}, {10 * time.Minute, "10m00s"}, {3720 * time.Second, "1h02m"},
	} {
		if got := span(tc.d); got != tc.want {
			t.Errorf("span(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
