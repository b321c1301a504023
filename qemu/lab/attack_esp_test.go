package lab

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// forgedESP: ESP for gw-1's own SAs (the SPIs AWS's end sends to it
// with, sequence numbers ahead of the real ones, no key) sent to its
// public address from a host on the VLAN and from the Internet. The SA's
// integrity check refuses every packet, and tidegate_xfrm_errors_total
// counts them: ESP for one of the gateway's SAs is decrypted as it is
// received (GRO, esp4_offload), whatever interface it came in on, so it
// is the SA and not the packet filter that refuses it, from the VLAN too.
// The tunnels stay up and the VLAN host keeps reaching the VPC host.
func forgedESP(ctx context.Context, t *testing.T, l *Lab) {
	gw1 := l.Gateway("vpn-gw-1")
	out, err := l.AWS.ShellOK(ctx, "ip xfrm state")
	if err != nil {
		t.Fatal(err)
	}
	spis := spisTo(out, gw1.Public)
	if len(spis) == 0 {
		t.Fatalf("no SA to %s in the AWS peer's xfrm state:\n%s", gw1.Public, out)
	}
	host := l.vlanNamespace(t, "esp", netip.MustParsePrefix("10.0.1.67/24"))
	if err := host.IP("route", "add", gw1.Public.String()+"/32", "via", gw1.VLAN.Addr().String()); err != nil {
		t.Fatal(err)
	}
	refused := func() float64 {
		m, err := l.gatewayMetrics(ctx, gw1)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := m.get("tidegate_xfrm_errors_total", map[string]string{"counter": "XfrmInStateProtoError"})
		if !ok {
			t.Fatalf("%s: no tidegate_xfrm_errors_total{counter=\"XfrmInStateProtoError\"} on /metrics", gw1.Name)
		}
		return v
	}
	before := refused()

	const perSPI = 10
	sent := 0
	for _, ns := range []string{host.Name, l.Switch.Name} {
		if err := netnstest.In(ns, func() error {
			c, err := net.ListenPacket("ip4:50", "0.0.0.0")
			if err != nil {
				return err
			}
			defer c.Close()
			for _, spi := range spis {
				for i := range perSPI {
					if _, err := c.WriteTo(forgedESPPacket(spi, 0x70000000+uint32(i)), &net.IPAddr{IP: gw1.Public.AsSlice()}); err != nil {
						return err
					}
					sent++
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("sending ESP from %s: %v", ns, err)
		}
	}
	// Both senders reuse the sequence numbers: the second round is
	// refused as a forgery too, since a refused packet never moves the
	// replay window.
	var got float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got = refused() - before; got >= float64(sent) {
			break
		}
	}
	t.Logf("forged ESP to %s (SPIs %x): %d sent from the VLAN and the Internet, XfrmInStateProtoError +%.0f", gw1.Public, spis, sent, got)
	if got < float64(sent) {
		t.Errorf("forged ESP: %d sent, %.0f refused by the SA and counted", sent, got)
	}
	if s := l.State(ctx); s.ChildSAs != 4 || s.BGPUp != 4 || !s.VPCReach {
		t.Errorf("after the forged ESP: %s, want 4 CHILD_SAs, 4 eBGP sessions and the VPC reachable", s.Summary())
	}
}

var xfrmStateSA = regexp.MustCompile(`src \S+ dst (\S+)\s+proto esp spi 0x([0-9a-f]+)`)

// spisTo returns the SPIs of the SAs in `ip xfrm state` whose
// destination is dst.
func spisTo(xfrmState string, dst netip.Addr) []uint32 {
	var spis []uint32
	for _, m := range xfrmStateSA.FindAllStringSubmatch(xfrmState, -1) {
		if m[1] != dst.String() {
			continue
		}
		if spi, err := strconv.ParseUint(m[2], 16, 32); err == nil {
			spis = append(spis, uint32(spi))
		}
	}
	return spis
}

// forgedESPPacket is an ESP packet for spi with sequence number seq: an
// IV, 64 bytes of "ciphertext" (four AES blocks) and a 16-byte ICV, none
// of which any key made.
func forgedESPPacket(spi, seq uint32) []byte {
	p := make([]byte, 8+8+64+16)
	binary.BigEndian.PutUint32(p[0:], spi)
	binary.BigEndian.PutUint32(p[4:], seq)
	for i := 8; i < len(p); i++ {
		p[i] = byte(i * 7)
	}
	return p
}
