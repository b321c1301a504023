package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every failure is an Errors
// with messages, and that every success renders with Masked.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	files, _ := filepath.Glob("examples/*.yaml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "~", "---\n---\n", "version: 1", "[1, 2]", "a: &a [*a]", "<<: {a: 1}",
		"gateways: [{tunnels: [{proposals: [aes256gcm16--x]}]}]",
		"vlan: {prefix: 10.0.1.0/33}", "bgp: {asn: 99999999999999999999}",
		"vrrp: {advert_interval: 9999999999999999s}",
		strings.ReplaceAll(base, "\n", "\r\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not a non-empty Errors: %#v", err)
			}
			for _, e := range es {
				if e.Msg == "" {
					t.Fatalf("empty message in %v", err)
				}
			}
			return
		}
		if _, err := s.Masked(); err != nil {
			t.Fatalf("Masked: %v", err)
		}
		if len(s.Gateways) != 2 {
			t.Fatalf("valid site with %d gateways", len(s.Gateways))
		}
		for _, g := range s.Gateways {
			if _, err := s.Peer(g.Name); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestAliasBomb checks that aliases cannot make a small document expensive.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &p [aes256-sha256-modp2048")
	for range 200 {
		b.WriteString(", aes256-sha256-modp2048")
	}
	b.WriteString("]\ny: &t {name: t, proposals: *p, esp_proposals: *p}\nz: &ts [*t")
	for range 200 {
		b.WriteString(", *t")
	}
	b.WriteString("]\nw: &g {name: g, tunnels: *ts}\ngateways: [*g")
	for range 200 {
		b.WriteString(", *g")
	}
	b.WriteString("]\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("err = %.300v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Parse took %v", d)
	}
}
