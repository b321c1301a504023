package vrrp

import (
	"encoding/binary"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// tosInternetControl is the IP precedence keepalived and most routers put on
// VRRP adverts, so that queueing on the way treats them as control traffic.
const tosInternetControl = 0xc0

// datagram is a received VRRP packet with the IPv4 fields the receive
// checks need.
type datagram struct {
	Src, Dst netip.Addr
	TTL      int
	Advert   *advert
}

// decodeDatagram decodes a whole IPv4 datagram carrying a VRRP packet, as
// read from the raw socket (wire byte order, IPv4 header included); it
// tolerates trailing bytes such as Ethernet padding. It checks everything
// that does not depend on configuration and never panics: it is the fuzz
// target.
func decodeDatagram(b []byte) (*datagram, error) {
	h, err := ipv4.ParseHeader(b)
	if err != nil {
		return nil, drop(DropIPHeader, "%v", err)
	}
	if h.Version != ipv4.Version || h.Len < ipv4.HeaderLen || h.Len > len(b) {
		return nil, drop(DropIPHeader, "version %d, header length %d", h.Version, h.Len)
	}
	if checksum(nil, b[:h.Len]) != 0 {
		return nil, drop(DropIPHeader, "header checksum")
	}
	if h.TotalLen < h.Len || h.TotalLen > len(b) {
		return nil, drop(DropLength, "IPv4 total length %d, have %d bytes", h.TotalLen, len(b))
	}
	// VRRP adverts are tiny; a fragment is an attack or an accident. The
	// kernel reassembles fragments before the raw socket sees them, so this
	// refuses what did not come through the stack (a test, the fuzzer).
	if h.Flags&ipv4.MoreFragments != 0 || h.FragOff != 0 {
		return nil, drop(DropIPHeader, "fragment")
	}
	if h.Protocol != ipProtoVRRP {
		return nil, drop(DropIPHeader, "protocol %d", h.Protocol)
	}
	src, ok1 := netip.AddrFromSlice(h.Src.To4())
	dst, ok2 := netip.AddrFromSlice(h.Dst.To4())
	if !ok1 || !ok2 {
		return nil, drop(DropIPHeader, "addresses")
	}
	// Adverts go to 224.0.0.18 (RFC 5798 §5.1.1.2); the socket also
	// receives protocol 112 sent to the gateway's own addresses.
	if dst != multicastGroup {
		return nil, drop(DropIPHeader, "destination %v, not %v", dst, multicastGroup)
	}
	// RFC 5798 §7.1: a router MUST drop an advert whose TTL is not 255; it
	// was forwarded, so it did not come from this link.
	if h.TTL != vrrpTTL {
		return nil, drop(DropTTL, "TTL %d from %v", h.TTL, src)
	}
	a, err := parseAdvert(b[h.Len:h.TotalLen], src, dst)
	if err != nil {
		return nil, err
	}
	return &datagram{Src: src, Dst: dst, TTL: h.TTL, Advert: a}, nil
}

// encodeDatagram wraps a VRRP packet in an IPv4 header: TTL 255, protocol
// 112, to 224.0.0.18, with its header checksum filled in. The header is the
// one keepalived sends (TOS 0xc0, no DF, a counting ID), byte for byte.
// x/net's header helpers use wire byte order on Linux, which is what a raw
// socket with IP_HDRINCL takes.
func encodeDatagram(src netip.Addr, id uint16, payload []byte) ([]byte, error) {
	h := &ipv4.Header{
		Version:  ipv4.Version,
		Len:      ipv4.HeaderLen,
		TOS:      tosInternetControl,
		TotalLen: ipv4.HeaderLen + len(payload),
		ID:       int(id),
		TTL:      vrrpTTL,
		Protocol: ipProtoVRRP,
		Src:      net.IP(src.AsSlice()),
		Dst:      net.IP(multicastGroup.AsSlice()),
	}
	hb, err := h.Marshal()
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(hb[10:12], checksum(nil, hb))
	return append(hb, payload...), nil
}

// encodeAdvert marshals a and wraps it for sending from src.
func encodeAdvert(a *advert, src netip.Addr, id uint16) ([]byte, error) {
	p, err := a.marshal(src, multicastGroup)
	if err != nil {
		return nil, err
	}
	return encodeDatagram(src, id, p)
}
