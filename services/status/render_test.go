package status

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidegate/tidegate/internal/golden"
)

func TestRender(t *testing.T) {
	type writeFunc func(io.Writer, *Document) error
	docs := map[string]func() Document{"master": masterDoc, "backup": backupDoc, "configuring": configuringDoc, "active-active": activeActiveDoc}
	writers := map[string]writeFunc{
		"status": WriteStatus, "tunnels": WriteTunnels, "bgp": WriteBGP,
		"vrrp": WriteVRRP, "routes": WriteRoutes,
	}
	for dn, doc := range docs {
		for wn, write := range writers {
			if dn == "active-active" && wn != "status" && wn != "vrrp" {
				continue // the same as master's
			}
			name := dn + "-" + wn
			t.Run(name, func(t *testing.T) {
				d := doc()
				var buf bytes.Buffer
				if err := write(&buf, &d); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, name+".golden", buf.String())
				for i, line := range strings.Split(buf.String(), "\n") {
					if strings.HasSuffix(line, " ") {
						t.Errorf("line %d ends in a space: %q", i+1, line)
					}
					// Lish is an 80-column terminal; long names (errors,
					// proposals) may overflow, tables should not.
					if n := len(line); n > 100 {
						t.Errorf("line %d is %d characters: %q", i+1, n, line)
					}
				}
			})
		}
	}
}

// TestRenderTruncatedRoutes: a Document that lists only the first routes
// of a large table says so, with the total.
func TestRenderTruncatedRoutes(t *testing.T) {
	d := masterDoc()
	d.RoutesTotal, d.RoutesTruncated = 123456, true
	var buf bytes.Buffer
	if err := WriteRoutes(&buf, &d); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "truncated-routes.golden", buf.String())
}

func TestWriteAll(t *testing.T) {
	d := masterDoc()
	var buf bytes.Buffer
	if err := WriteAll(&buf, &d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Gateway  ", "Tunnel  ", "Neighbor  ", "State  ", "Prefix  "} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteAll lacks %q", want)
		}
	}
}

func TestUptime(t *testing.T) {
	for _, tc := range []struct {
		secs float64
		want string
	}{
		{0, "00:00:00"},
		{59.9, "00:00:59"},
		{3723, "01:02:03"},
		{86400 + 7200 + 180, "1d02h03m"},
		{15*86400 + 3*3600, "02w1d03h"},
		{-5, "00:00:00"},
	} {
		if got := uptime(tc.secs); got != tc.want {
			t.Errorf("uptime(%v) = %q, want %q", tc.secs, got, tc.want)
		}
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0B"}, {1023, "1023B"}, {1536, "1.5K"}, {5 << 20, "5.0M"}, {3 << 30, "3.0G"},
	} {
		if got := size(tc.n); got != tc.want {
			t.Errorf("size(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestSortRoutes(t *testing.T) {
	rs := []Route{{Prefix: "10.0.10.0/24"}, {Prefix: "10.0.9.0/24"}, {Prefix: "10.0.9.0/23"}, {Prefix: "9.0.0.0/8"}}
	sortRoutes(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.Prefix)
	}
	want := []string{"9.0.0.0/8", "10.0.9.0/23", "10.0.9.0/24", "10.0.10.0/24"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sortRoutes (-want +got):\n%s", diff)
	}
}
