package vrrp

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"time"
)

// Wire constants shared by VRRPv2 and VRRPv3 over IPv4.
const (
	ipProtoVRRP = 112 // IANA protocol number for VRRP
	vrrpTTL     = 255 // adverts must stay on-link

	typeAdvertisement = 1

	authNone   = 0 // RFC 3768: no authentication
	authSimple = 1 // RFC 2338 simple text password (keepalived's auth_type PASS)

	headerLen   = 8 // fixed part of the VRRP packet
	authDataLen = 8 // v2 trailing authentication data
	maxAddrs    = 255

	// v3 carries the interval in centiseconds in 12 bits.
	v3IntervalUnit = 10 * time.Millisecond
	v3MaxInterval  = 0xfff * v3IntervalUnit
	// v2 carries whole seconds in 8 bits.
	v2MaxInterval = 255 * time.Second
)

// multicastGroup is the IPv4 all-VRRP-routers group, 224.0.0.18.
var multicastGroup = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// advert is one VRRP ADVERTISEMENT, v2 or v3, IPv4 only.
type advert struct {
	Version   int
	VRID      uint8
	Priority  uint8
	Interval  time.Duration // whole seconds for v2, 10 ms steps for v3
	AuthType  uint8         // v2 only
	AuthData  [authDataLen]byte
	Addresses []netip.Addr

	// NoPseudoHeader is set on a decoded v3 advert whose checksum was
	// computed without the IPv4 pseudo-header (keepalived's
	// vrrp_checksum_compatibility, some older stacks). Both forms are
	// accepted; tidegate always sends the RFC form, with it.
	NoPseudoHeader bool
}

// authData returns keepalived's form of a simple password: its first 8
// bytes, zero padded.
func authData(pass string) [authDataLen]byte {
	var b [authDataLen]byte
	copy(b[:], pass)
	return b
}

// marshal encodes a as the payload of an IPv4 datagram from src to dst. v3
// checksums include the IPv4 pseudo-header, as RFC 5798 and keepalived do.
func (a *advert) marshal(src, dst netip.Addr) ([]byte, error) {
	if len(a.Addresses) > maxAddrs {
		return nil, errors.New("vrrp: too many virtual addresses")
	}
	n := headerLen + 4*len(a.Addresses)
	if a.Version == 2 {
		n += authDataLen
	}
	b := make([]byte, n)
	b[0] = byte(a.Version)<<4 | typeAdvertisement
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = byte(len(a.Addresses))
	switch a.Version {
	case 2:
		if a.Interval <= 0 || a.Interval > v2MaxInterval || a.Interval%time.Second != 0 {
			return nil, errors.New("vrrp: v2 advert interval must be 1..255 whole seconds")
		}
		b[4] = a.AuthType
		b[5] = byte(a.Interval / time.Second)
	case 3:
		if a.Interval < v3IntervalUnit || a.Interval > v3MaxInterval || a.Interval%v3IntervalUnit != 0 {
			return nil, errors.New("vrrp: v3 advert interval must be 10ms..40.95s in 10ms steps")
		}
		binary.BigEndian.PutUint16(b[4:6], uint16(a.Interval/v3IntervalUnit))
	default:
		return nil, errors.New("vrrp: version must be 2 or 3")
	}
	for i, ip := range a.Addresses {
		if !ip.Is4() {
			return nil, errors.New("vrrp: virtual addresses must be IPv4")
		}
		v := ip.As4()
		copy(b[headerLen+4*i:], v[:])
	}
	if a.Version == 2 {
		copy(b[n-authDataLen:], a.AuthData[:])
		binary.BigEndian.PutUint16(b[6:8], checksum(nil, b))
	} else {
		binary.BigEndian.PutUint16(b[6:8], checksum(pseudoHeader(src, dst, len(b)), b))
	}
	return b, nil
}

// parseAdvert decodes and checks the parts of a VRRP packet that do not
// depend on local configuration: version, type, length and checksum. src
// and dst come from the IPv4 header, for the v3 pseudo-header.
func parseAdvert(b []byte, src, dst netip.Addr) (*advert, error) {
	if len(b) < headerLen {
		return nil, drop(DropLength, "%d bytes, need at least %d", len(b), headerLen)
	}
	a := &advert{Version: int(b[0] >> 4)}
	if a.Version != 2 && a.Version != 3 {
		return nil, drop(DropVersion, "version %d", a.Version)
	}
	if t := b[0] & 0x0f; t != typeAdvertisement {
		return nil, drop(DropType, "type %d", t)
	}
	a.VRID, a.Priority = b[1], b[2]
	count := int(b[3])
	want := headerLen + 4*count
	if a.Version == 2 {
		want += authDataLen
	}
	if len(b) != want {
		return nil, drop(DropLength, "%d bytes for %d addresses, want %d", len(b), count, want)
	}
	switch a.Version {
	case 2:
		if checksum(nil, b) != 0 {
			return nil, drop(DropChecksum, "v2 checksum")
		}
		a.AuthType = b[4]
		a.Interval = time.Duration(b[5]) * time.Second
		copy(a.AuthData[:], b[len(b)-authDataLen:])
	case 3:
		switch {
		case checksum(pseudoHeader(src, dst, len(b)), b) == 0:
		case checksum(nil, b) == 0:
			a.NoPseudoHeader = true
		default:
			return nil, drop(DropChecksum, "v3 checksum (with and without pseudo-header)")
		}
		// The top 4 bits are reserved: ignored on receipt.
		a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:6])&0x0fff) * v3IntervalUnit
	}
	a.Addresses = make([]netip.Addr, count)
	for i := range count {
		a.Addresses[i] = netip.AddrFrom4([4]byte(b[headerLen+4*i : headerLen+4*i+4]))
	}
	return a, nil
}

// filter holds what a received advert must match to be processed by this
// virtual router (RFC 3768 §7.1, RFC 5798 §7.1).
type filter struct {
	Version   int
	VRID      uint8
	AuthType  uint8
	AuthData  [authDataLen]byte
	Interval  time.Duration // v2 only: must match
	Addresses []netip.Addr  // sorted
}

// check applies the configuration-dependent receive checks.
func (f *filter) check(a *advert) error {
	if a.Version != f.Version {
		return drop(DropVersion, "version %d, configured %d", a.Version, f.Version)
	}
	if a.VRID != f.VRID {
		return drop(DropVRID, "VRID %d, configured %d", a.VRID, f.VRID)
	}
	if a.Interval == 0 {
		// A zero interval would make Master_Down_Interval just the skew.
		return drop(DropInterval, "zero interval")
	}
	if f.Version == 2 {
		// Constant-time compare: the field is a password.
		if a.AuthType != f.AuthType || subtle.ConstantTimeCompare(a.AuthData[:], f.AuthData[:]) != 1 {
			return drop(DropAuth, "authentication type %d or data differs from ours", a.AuthType)
		}
		if a.Interval != f.Interval {
			return drop(DropInterval, "interval %v, configured %v", a.Interval, f.Interval)
		}
	}
	if len(a.Addresses) != len(f.Addresses) {
		return drop(DropAddressCount, "%d addresses, configured %d", len(a.Addresses), len(f.Addresses))
	}
	// The owner (priority 255) is authoritative for its addresses; anyone
	// else must advertise exactly ours.
	if a.Priority != 255 {
		got := slices.Clone(a.Addresses)
		slices.SortFunc(got, netip.Addr.Compare)
		if !slices.Equal(got, f.Addresses) {
			return drop(DropAddresses, "addresses %v, configured %v", a.Addresses, f.Addresses)
		}
	}
	return nil
}

// pseudoHeader is the IPv4 pseudo-header that RFC 5798 §5.2.8 puts under
// the v3 checksum.
func pseudoHeader(src, dst netip.Addr, length int) []byte {
	b := make([]byte, 12)
	s, d := src.As4(), dst.As4()
	copy(b[0:4], s[:])
	copy(b[4:8], d[:])
	b[9] = ipProtoVRRP
	binary.BigEndian.PutUint16(b[10:12], uint16(length))
	return b
}

// checksum is the RFC 1071 Internet checksum of pre (even length) followed
// by b. Summing a packet that carries its checksum yields 0 when it is right.
func checksum(pre, b []byte) uint16 {
	var sum uint32
	add := func(p []byte) {
		for len(p) >= 2 {
			sum += uint32(p[0])<<8 | uint32(p[1])
			p = p[2:]
		}
		if len(p) == 1 {
			sum += uint32(p[0]) << 8
		}
	}
	add(pre)
	add(b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
