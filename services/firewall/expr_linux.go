package firewall

import (
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The nftables expressions the table is made of, each the equivalent of
// a few words of nft's syntax (in the comments).

// rules adds rules to one table.
type rules struct {
	c *nftables.Conn
	t *nftables.Table
}

// add appends a rule made of the expression groups, in order.
func (r rules) add(ch *nftables.Chain, groups ...[]expr.Any) {
	r.c.AddRule(&nftables.Rule{Table: r.t, Chain: ch, Exprs: slices.Concat(groups...)})
}

// ifname is an interface name as nftables compares it: NUL-padded to
// IFNAMSIZ, so that "eth1" does not match "eth10".
func ifname(n string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, n)
	return b
}

// iif: "iifname NAME".
func iif(name string) []expr.Any { return meta(expr.MetaKeyIIFNAME, ifname(name)) }

// oif: "oifname NAME".
func oif(name string) []expr.Any { return meta(expr.MetaKeyOIFNAME, ifname(name)) }

// nics are the indexes of the gateway's NICs (the uplink and the VLAN's)
// that exist when the table is built. Rules match a NIC by index ("iif
// INDEX"), which the kernel compares as a number, where "iifname" copies
// and compares 16 bytes, for every rule that names an interface, on every
// packet. A NIC is never re-created; the XFRM interfaces may be, so they
// are matched by name, and so is a NIC that does not exist yet, whose
// rules then apply once it appears.
type nics map[string]uint32

// lookupNICs finds the named interfaces in the calling thread's network
// namespace, leaving out those that do not exist.
func lookupNICs(names ...string) nics {
	n := nics{}
	for _, name := range names {
		if ifi, err := net.InterfaceByName(name); err == nil {
			n[name] = uint32(ifi.Index)
		}
	}
	return n
}

// iif: "iif INDEX" for a NIC that exists, else "iifname NAME".
func (n nics) iif(name string) []expr.Any {
	if i, ok := n[name]; ok {
		return meta(expr.MetaKeyIIF, binaryutil.NativeEndian.PutUint32(i))
	}
	return iif(name)
}

// oif: "oif INDEX" for a NIC that exists, else "oifname NAME".
func (n nics) oif(name string) []expr.Any {
	if i, ok := n[name]; ok {
		return meta(expr.MetaKeyOIF, binaryutil.NativeEndian.PutUint32(i))
	}
	return oif(name)
}

func meta(key expr.MetaKey, eq []byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: eq},
	}
}

// ctState: "ct state BITS" (any of them).
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// l4: "meta l4proto PROTO".
func l4(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// dport: "th dport PORT" (TCP or UDP, after l4).
func dport(p uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p)},
	}
}

// saddr: "meta nfproto ipv4 ip saddr PREFIX".
func saddr(p netip.Prefix) []expr.Any { return ip4Prefix(12, p, expr.CmpOpEq) }

// saddrNot: "meta nfproto ipv4 ip saddr != PREFIX".
func saddrNot(p netip.Prefix) []expr.Any { return ip4Prefix(12, p, expr.CmpOpNeq) }

// daddrNot: "meta nfproto ipv4 ip daddr != PREFIX".
func daddrNot(p netip.Prefix) []expr.Any { return ip4Prefix(16, p, expr.CmpOpNeq) }

// ip4Prefix compares the IPv4 address at off in the header (12: source,
// 16: destination) with p; an IPv6 packet never matches.
func ip4Prefix(off uint32, p netip.Prefix, op expr.CmpOp) []expr.Any {
	p = p.Masked()
	mask := make([]byte, 4)
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	a := p.Addr().As4()
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: op, Register: 1, Data: a[:]},
	}
}

// counted: "counter name NAME".
func counted(name string) []expr.Any {
	return []expr.Any{&expr.Objref{Type: int(nftables.ObjTypeCounter), Name: name}}
}

func acceptV() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }
func dropV() []expr.Any   { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

// jumpV: "jump CHAIN".
func jumpV(chain string) []expr.Any {
	return []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: chain}}
}

// tcpOptMaxseg is the TCP option kind of the MSS.
const tcpOptMaxseg = 2

// syn matches TCP SYNs (SYN set, RST clear; SYN-ACKs too): "tcp flags &
// (syn|rst) == syn".
func syn() []expr.Any {
	return append(l4(unix.IPPROTO_TCP),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0x02 | 0x04}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x02}},
	)
}

// mssOver matches, in a SYN (after syn), an MSS option larger than mss:
// "tcp option maxseg size > mss".
func mssOver(mss uint16) []expr.Any {
	return []expr.Any{
		&expr.Exthdr{DestRegister: 1, Type: tcpOptMaxseg, Offset: 2, Len: 2, Op: expr.ExthdrOpTcpopt},
		&expr.Cmp{Op: expr.CmpOpGt, Register: 1, Data: binaryutil.BigEndian.PutUint16(mss)},
	}
}

// setMSS rewrites the MSS option: "tcp option maxseg size set mss". The
// kernel fixes the TCP checksum.
func setMSS(mss uint16) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: binaryutil.BigEndian.PutUint16(mss)},
		&expr.Exthdr{SourceRegister: 1, Type: tcpOptMaxseg, Offset: 2, Len: 2, Op: expr.ExthdrOpTcpopt},
	}
}

// notLocal: "fib daddr type != local": a packet to be forwarded, not one
// addressed to this host. It costs a FIB lookup per packet, so the raw
// chain uses it only where no address says the same.
func notLocal() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, ResultADDRTYPE: true, FlagDADDR: true},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

// notrackV: "notrack".
func notrackV() []expr.Any { return []expr.Any{&expr.Notrack{}} }
