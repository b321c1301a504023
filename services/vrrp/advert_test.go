package vrrp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Adverts captured with tcpdump from Debian's keepalived 2.2.7 running the
// seed's configuration (v2: VRID 10, priority 100, advert_int 1, auth PASS
// "password", VIP 10.0.1.200) and the same with vrrp_version 3 and
// advert_int 0.5, sent from 10.0.1.2.
const (
	keepalivedV2     = "45c0 0028 0001 0000 ff70 cf90 0a00 0102 e000 0012 210a 6401 0101 a082 0a00 01c8 7061 7373 776f 7264"
	keepalivedV2Prio = "45c0 0028 0003 0000 ff70 cf8e 0a00 0102 e000 0012 210a 0001 0101 0483 0a00 01c8 7061 7373 776f 7264"
	keepalivedV3     = "45c0 0020 0001 0000 ff70 cf98 0a00 0102 e000 0012 310a 6401 0032 7369 0a00 01c8"
)

// addrCmp lets go-cmp compare netip.Addr, whose fields are unexported.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	gw1 = netip.MustParseAddr("10.0.1.2")
	vip = netip.MustParseAddr("10.0.1.200")
)

func TestKeepalivedGolden(t *testing.T) {
	tests := []struct {
		name string
		wire string
		id   uint16
		want advert
	}{
		{"v2 seed", keepalivedV2, 1, advert{Version: 2, VRID: 10, Priority: 100, Interval: time.Second,
			AuthType: authSimple, AuthData: authData("password"), Addresses: []netip.Addr{vip}}},
		{"v2 priority 0", keepalivedV2Prio, 3, advert{Version: 2, VRID: 10, Priority: 0, Interval: time.Second,
			AuthType: authSimple, AuthData: authData("password"), Addresses: []netip.Addr{vip}}},
		{"v3", keepalivedV3, 1, advert{Version: 3, VRID: 10, Priority: 100, Interval: 500 * time.Millisecond,
			Addresses: []netip.Addr{vip}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := unhex(t, tt.wire)
			d, err := decodeDatagram(wire)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d.Src != gw1 || d.Dst != multicastGroup || d.TTL != 255 {
				t.Fatalf("header: %+v", d)
			}
			if diff := cmp.Diff(&tt.want, d.Advert, addrCmp); diff != "" {
				t.Fatalf("advert (-want +got):\n%s", diff)
			}
			// tidegate sends exactly what keepalived sends.
			got, err := encodeAdvert(&tt.want, gw1, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wire) {
				t.Fatalf("encode:\n got %x\nwant %x", got, wire)
			}
		})
	}
}

func TestAuthDataFirstEightCharacters(t *testing.T) {
	if a, b := authData("password-is-long"), authData("password"); a != b {
		t.Fatalf("auth data of a long password %q != %q", a, b)
	}
	if a := authData("pw"); a != [8]byte{'p', 'w'} {
		t.Fatalf("short password not zero padded: %q", a)
	}
}

// v3 adverts checksummed without the pseudo-header (keepalived's
// vrrp_checksum_compatibility) are accepted too.
func TestV3ChecksumWithoutPseudoHeader(t *testing.T) {
	wire := unhex(t, keepalivedV3)
	p := wire[20:]
	binary.BigEndian.PutUint16(p[6:8], 0)
	binary.BigEndian.PutUint16(p[6:8], checksum(nil, p))
	d, err := decodeDatagram(wire)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !d.Advert.NoPseudoHeader {
		t.Fatal("NoPseudoHeader not set")
	}
}

// mutate returns a copy of a golden datagram changed by f; f may change the
// VRRP payload (p) and the header (h), and the checksums are then fixed up
// unless keep says otherwise.
func mutate(t *testing.T, golden string, f func(h, p []byte) []byte, fixVRRP bool) []byte {
	t.Helper()
	b := unhex(t, golden)
	h, p := b[:20], b[20:]
	p = f(h, p)
	b = append(h[:20:20], p...)
	if fixVRRP {
		binary.BigEndian.PutUint16(b[20+6:20+8], 0)
		var sum uint16
		if b[20]>>4 == 3 {
			sum = checksum(pseudoHeader(gw1, multicastGroup, len(p)), b[20:])
		} else {
			sum = checksum(nil, b[20:])
		}
		binary.BigEndian.PutUint16(b[20+6:20+8], sum)
	}
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	binary.BigEndian.PutUint16(b[10:12], 0)
	binary.BigEndian.PutUint16(b[10:12], checksum(nil, b[:20]))
	return b
}

func TestDecodeDrops(t *testing.T) {
	tests := []struct {
		name   string
		wire   []byte
		reason DropReason
	}{
		{"empty", nil, DropIPHeader},
		{"short IP header", unhex(t, keepalivedV2)[:19], DropIPHeader},
		{"truncated datagram", unhex(t, keepalivedV2)[:30], DropLength},
		{"ttl 254", mutate(t, keepalivedV2, func(h, p []byte) []byte { h[8] = 254; return p }, true), DropTTL},
		{"ttl 1", mutate(t, keepalivedV3, func(h, p []byte) []byte { h[8] = 1; return p }, true), DropTTL},
		{"bad IP checksum", func() []byte { b := unhex(t, keepalivedV2); b[11] ^= 1; return b }(), DropIPHeader},
		{"fragment", mutate(t, keepalivedV2, func(h, p []byte) []byte { h[6] = 0x20; return p }, true), DropIPHeader},
		{"protocol", mutate(t, keepalivedV2, func(h, p []byte) []byte { h[9] = 17; return p }, true), DropIPHeader},
		{"unicast destination", mutate(t, keepalivedV2, func(h, p []byte) []byte { copy(h[16:20], []byte{10, 0, 1, 2}); return p }, true), DropIPHeader},
		{"version 4", mutate(t, keepalivedV3, func(h, p []byte) []byte { p[0] = 0x41; return p }, true), DropVersion},
		{"type 2", mutate(t, keepalivedV3, func(h, p []byte) []byte { p[0] = 0x32; return p }, true), DropType},
		{"v2 checksum", mutate(t, keepalivedV2, func(h, p []byte) []byte { p[2] = 101; return p }, false), DropChecksum},
		{"v3 checksum", mutate(t, keepalivedV3, func(h, p []byte) []byte { p[2] = 101; return p }, false), DropChecksum},
		{"count too high", mutate(t, keepalivedV3, func(h, p []byte) []byte { p[3] = 2; return p }, true), DropLength},
		{"count too low", mutate(t, keepalivedV2, func(h, p []byte) []byte { p[3] = 0; return p }, true), DropLength},
		{"trailing bytes", mutate(t, keepalivedV3, func(h, p []byte) []byte { return append(p, 0, 0, 0, 0) }, true), DropLength},
		{"vrrp header short", mutate(t, keepalivedV3, func(h, p []byte) []byte { return p[:4] }, false), DropLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeDatagram(tt.wire)
			var de *dropError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a drop", err)
			}
			if de.reason != tt.reason {
				t.Fatalf("reason = %q (%v), want %q", de.reason, err, tt.reason)
			}
		})
	}
}

// Ethernet pads short frames to 60 bytes; the IPv4 total length says where
// the datagram ends.
func TestDecodeIgnoresEthernetPadding(t *testing.T) {
	b := append(unhex(t, keepalivedV3), make([]byte, 14)...)
	if _, err := decodeDatagram(b); err != nil {
		t.Fatal(err)
	}
}

func TestFilter(t *testing.T) {
	v2 := filter{Version: 2, VRID: 10, AuthType: authSimple, AuthData: authData("password"),
		Interval: time.Second, Addresses: []netip.Addr{vip}}
	v3 := filter{Version: 3, VRID: 10, Addresses: []netip.Addr{vip}}
	good2 := func() *advert {
		return &advert{Version: 2, VRID: 10, Priority: 100, Interval: time.Second, AuthType: authSimple,
			AuthData: authData("password"), Addresses: []netip.Addr{vip}}
	}
	good3 := func() *advert {
		return &advert{Version: 3, VRID: 10, Priority: 100, Interval: 20 * time.Millisecond, Addresses: []netip.Addr{vip}}
	}
	other := netip.MustParseAddr("10.0.1.201")
	tests := []struct {
		name   string
		f      filter
		a      func() *advert
		change func(a *advert)
		reason DropReason // "" = accepted
	}{
		{"v2 ok", v2, good2, func(*advert) {}, ""},
		{"v3 ok, any interval", v3, good3, func(a *advert) { a.Interval = 3 * time.Second }, ""},
		{"version", v3, good2, func(*advert) {}, DropVersion},
		{"vrid", v3, good3, func(a *advert) { a.VRID = 11 }, DropVRID},
		{"wrong password", v2, good2, func(a *advert) { a.AuthData = authData("passwore") }, DropAuth},
		{"no auth", v2, good2, func(a *advert) { a.AuthType, a.AuthData = authNone, [8]byte{} }, DropAuth},
		{"auth type AH", v2, good2, func(a *advert) { a.AuthType = 2 }, DropAuth},
		{"v2 interval", v2, good2, func(a *advert) { a.Interval = 2 * time.Second }, DropInterval},
		{"address count", v3, good3, func(a *advert) { a.Addresses = append(a.Addresses, other) }, DropAddressCount},
		{"no addresses", v3, good3, func(a *advert) { a.Addresses = nil }, DropAddressCount},
		{"other address", v3, good3, func(a *advert) { a.Addresses = []netip.Addr{other} }, DropAddresses},
		{"owner may differ", v3, good3, func(a *advert) { a.Addresses = []netip.Addr{other}; a.Priority = 255 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a()
			tt.change(a)
			err := tt.f.check(a)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var de *dropError
			if !errors.As(err, &de) || de.reason != tt.reason {
				t.Fatalf("err = %v, want %q", err, tt.reason)
			}
			if strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "passwore") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	tests := []advert{
		{Version: 2, Interval: 1500 * time.Millisecond},
		{Version: 2, Interval: 256 * time.Second},
		{Version: 3, Interval: 5 * time.Millisecond},
		{Version: 3, Interval: 15 * time.Millisecond},
		{Version: 3, Interval: 41 * time.Second},
		{Version: 4, Interval: time.Second},
		{Version: 3, Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("2001:db8::1")}},
	}
	for _, a := range tests {
		if _, err := a.marshal(gw1, multicastGroup); err == nil {
			t.Errorf("marshal(%+v) succeeded", a)
		}
	}
}

// FuzzDecode: the decoder never panics, and whatever it accepts survives a
// round trip through the encoder.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{keepalivedV2, keepalivedV2Prio, keepalivedV3} {
		f.Add(unhex(f, s))
	}
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDatagram(b)
		if err != nil {
			var de *dropError
			if !errors.As(err, &de) {
				t.Fatalf("error is not a drop: %v", err)
			}
			return
		}
		a := d.Advert
		if a.Version == 3 && a.Interval == 0 {
			return // decodes, but not something we could send
		}
		if a.Version == 2 && a.Interval == 0 {
			return
		}
		out, err := encodeAdvert(a, d.Src, 0)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", a, err)
		}
		d2, err := decodeDatagram(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		d2.Advert.NoPseudoHeader = a.NoPseudoHeader
		if diff := cmp.Diff(a, d2.Advert, addrCmp); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
