package vrrp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mdlayher/packet"
)

// injectCases are malformed or foreign adverts sent at a v2 router (VRID
// 10, auth PASS "password", 1 s, VIP 10.0.1.200) by the namespace test
// TestDropsInNamespace. Each carries priority 254, so that accepting it
// would make the master step down; each must instead be counted under its
// reason.
func injectCases(t testing.TB) []struct {
	Reason DropReason
	Wire   []byte
} {
	src := netip.MustParseAddr("10.0.1.10")
	good := func() advert {
		return advert{Version: 2, VRID: 10, Priority: 254, Interval: time.Second, AuthType: authSimple,
			AuthData: authData("password"), Addresses: []netip.Addr{vip}}
	}
	enc := func(a advert) []byte {
		b, err := encodeAdvert(&a, src, 7)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// fix recomputes the VRRP (v2 form) and IPv4 checksums and length.
	fix := func(b []byte) []byte {
		p := b[20:]
		binary.BigEndian.PutUint16(p[6:8], 0)
		binary.BigEndian.PutUint16(p[6:8], checksum(nil, p))
		binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
		binary.BigEndian.PutUint16(b[10:12], 0)
		binary.BigEndian.PutUint16(b[10:12], checksum(nil, b[:20]))
		return b
	}
	with := func(f func(*advert)) []byte { a := good(); f(&a); return enc(a) }
	type c = struct {
		Reason DropReason
		Wire   []byte
	}
	return []c{
		{DropTTL, func() []byte { b := enc(good()); b[8] = 64; return fix(b) }()},
		{DropVersion, with(func(a *advert) { a.Version, a.AuthType, a.AuthData = 3, 0, [8]byte{} })},
		{DropVRID, with(func(a *advert) { a.VRID = 11 })},
		{DropChecksum, func() []byte { b := enc(good()); b[20+6] ^= 0xff; return b }()},
		{DropAuth, with(func(a *advert) { a.AuthData = authData("letmein") })},
		{DropAddressCount, with(func(a *advert) { a.Addresses = append(a.Addresses, netip.MustParseAddr("10.0.1.201")) })},
		{DropAddresses, with(func(a *advert) { a.Addresses = []netip.Addr{netip.MustParseAddr("10.0.1.201")} })},
		{DropInterval, with(func(a *advert) { a.Interval = 2 * time.Second })},
		{DropLength, func() []byte { b := enc(good()); return fix(append(b, 1, 2, 3, 4)) }()},
		{DropIPHeader, func() []byte { b := enc(good()); b[11] ^= 0xff; return b }()},
		{DropType, func() []byte { b := enc(good()); b[20] = 0x22; return fix(b) }()},
	}
}

// TestInjectHelper is not a test: TestDropsInNamespace and the rogue tests
// run the test binary inside the client's namespace with TGVRRP_INJECT set
// (bad, valid or rogue), and this sends the frames from there.
func TestInjectHelper(t *testing.T) {
	mode := os.Getenv("TGVRRP_INJECT")
	if mode == "" {
		t.Skip("helper for the namespace tests")
	}
	ifi, err := net.InterfaceByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	// The link layer, so that malformed IPv4 headers go out as they are.
	const etherTypeIPv4 = 0x0800
	c, err := packet.Listen(ifi, packet.Datagram, etherTypeIPv4, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var frames [][]byte
	if mode == "rogue" {
		frames = rogueFrames(t)
	} else if mode == "valid" {
		a := advert{Version: 2, VRID: 10, Priority: 254, Interval: time.Second, AuthType: authSimple,
			AuthData: authData("password"), Addresses: []netip.Addr{vip}}
		b, err := encodeAdvert(&a, netip.MustParseAddr("10.0.1.10"), 9)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	} else {
		for _, ic := range injectCases(t) {
			frames = append(frames, ic.Wire)
		}
	}
	for _, b := range frames {
		if _, err := c.WriteTo(b, &packet.Addr{HardwareAddr: net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rogueFrames are the adverts of a rogue router for the test pair's VRID 10
// and VIP 10.0.1.200, as TGVRRP_ROGUE_* describe it (TestRogue*): from SRC,
// VERSION 2 or 3, advertising INTERVAL, with PASS (v2), at PRIORITY [254],
// COUNT of them. They pass every RFC check of the pair's routers.
func rogueFrames(t *testing.T) [][]byte {
	env := func(k string) string { return os.Getenv("TGVRRP_ROGUE_" + k) }
	src, err := netip.ParseAddr(env("SRC"))
	if err != nil {
		t.Fatal(err)
	}
	version, _ := strconv.Atoi(env("VERSION"))
	interval, err := time.ParseDuration(env("INTERVAL"))
	if err != nil {
		t.Fatal(err)
	}
	count, _ := strconv.Atoi(env("COUNT"))
	prio := 254
	if p := env("PRIORITY"); p != "" {
		prio, _ = strconv.Atoi(p)
	}
	a := advert{Version: version, VRID: 10, Priority: uint8(prio), Interval: interval, Addresses: []netip.Addr{vip}}
	if version == 2 {
		a.AuthType, a.AuthData = authSimple, authData(env("PASS"))
	}
	var frames [][]byte
	for i := range count {
		b, err := encodeAdvert(&a, src, uint16(i))
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	return frames
}

// The injected frames are rejected for the reasons they are meant to test.
func TestInjectCasesDecode(t *testing.T) {
	f := filter{Version: 2, VRID: 10, AuthType: authSimple, AuthData: authData("password"),
		Interval: time.Second, Addresses: []netip.Addr{vip}}
	for _, ic := range injectCases(t) {
		d, err := decodeDatagram(ic.Wire)
		if err == nil {
			err = f.check(d.Advert)
		}
		de, ok := err.(*dropError)
		if !ok || de.reason != ic.Reason {
			t.Errorf("case %s: got %v", ic.Reason, err)
		}
	}
}
