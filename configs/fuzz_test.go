package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
