package awsimport

import (
	"bytes"
	"encoding/xml"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tidegate/tidegate/configs"
)

// FuzzParseConnection feeds ParseConnection arbitrary XML and JSON.
// Properties: no panic; an error never quotes a pre-shared key of the
// input; a connection that parses has two tunnels sorted by inside /30,
// parses the same again, and goes into a site with another connection
// without a panic.
func FuzzParseConnection(f *testing.F) {
	for _, name := range []string{"vpn-1.xml", "vpn-2.xml"} {
		f.Add(read(f, name))
	}
	other, err := ParseConnection(read(f, "vpn-2.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConnection(data)
		if err != nil {
			if c != nil {
				t.Fatal("a Connection with an error")
			}
			checkNoPSK(t, data, err, func(d []byte) error { _, err := ParseConnection(d); return err })
			return
		}
		if len(c.Tunnels) != 2 {
			t.Fatalf("%d tunnels", len(c.Tunnels))
		}
		for i, tn := range c.Tunnels {
			if tn.InsideCIDR.Bits() != 30 || tn.InsideCIDR != tn.InsideCIDR.Masked() || !tn.OutsideAddress.IsValid() || tn.PSK.Reveal() == "" {
				t.Errorf("tunnel %d: inside %s outside %s", i, tn.InsideCIDR, tn.OutsideAddress)
			}
		}
		if !c.Tunnels[0].InsideCIDR.Addr().Less(c.Tunnels[1].InsideCIDR.Addr()) {
			t.Errorf("tunnels not sorted: %s, %s", c.Tunnels[0].InsideCIDR, c.Tunnels[1].InsideCIDR)
		}
		again, err := ParseConnection(data)
		if err != nil {
			t.Fatalf("parsed once, not twice: %v", err)
		}
		if diff := cmp.Diff(c, again, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}),
			cmp.Comparer(func(a, b configs.Secret) bool { return a.Reveal() == b.Reveal() })); diff != "" {
			t.Errorf("two parses differ:\n%s", diff)
		}
		site := func(d []byte) error {
			c, err := ParseConnection(d)
			if err == nil {
				_, err = Site(seedOptions(), []*Connection{c, other})
			}
			return err
		}
		if err := site(data); err != nil {
			checkNoPSK(t, data, err, site)
		}
	})
}

// psks returns the text of the pre_shared_key elements in data, as a
// lenient XML reader sees it, up to where it cannot read on.
func psks(data []byte) [][]byte {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var (
		out [][]byte
		in  bool
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "pre_shared_key"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				out = append(out, bytes.TrimSpace(bytes.Clone(t)))
			}
		}
	}
}

// checkNoPSK fails when err, which run returned for data, quotes one of
// the pre-shared keys data gives: one that appears once in data (elsewhere
// it would be the text of another element, which errors may quote) and that
// run's error does not show anyway with the key replaced (it would then be
// the error's own words).
func checkNoPSK(t *testing.T, data []byte, err error, run func([]byte) error) {
	t.Helper()
	msg := err.Error()
	for _, psk := range psks(data) {
		if len(psk) < 8 || bytes.Count(data, psk) != 1 || !strings.Contains(msg, string(psk)) {
			continue
		}
		err2 := run(bytes.Replace(data, psk, bytes.Repeat([]byte("Z"), len(psk)), 1))
		if err2 == nil || !strings.Contains(err2.Error(), string(psk)) {
			t.Fatalf("the error quotes the pre-shared key %q:\n%s", psk, msg)
		}
	}
}
