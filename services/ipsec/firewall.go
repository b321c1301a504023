package ipsec

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// MSS is the TCP MSS that SYNs crossing a tunnel are clamped to: AWS's
// recommendation (1379) for its tunnels.
const MSS = 1379

// FirewallTable is the nftables table (family inet) the service owns. It is
// replaced as a whole, so nothing else should be put into it.
const FirewallTable = "tidegate_ipsec"

// installFirewall replaces the service's nftables table in the calling
// thread's network namespace with:
//
//   - input from the uplink: conntrack established/related, IKE (UDP 500
//     and 4500), ESP, ICMP and ICMPv6, DHCP replies; everything else is
//     dropped. Other interfaces (the VLAN, the tunnels, lo) are not
//     filtered here.
//   - forward from the uplink: dropped. Traffic from AWS arrives on the
//     XFRM interfaces after decryption, never as plain packets on eth0.
//   - TCP SYNs forwarded into or out of an XFRM interface get an MSS of at
//     most MSS, so hosts behind either end send segments that fit the
//     tunnel without fragmentation (the two directions cover connections
//     opened from either side).
//
// The whole table is swapped in one transaction.
func installFirewall(uplink string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("ipsec: nftables: %w", err)
	}
	t := &nftables.Table{Name: FirewallTable, Family: nftables.TableFamilyINet}
	// Adding before deleting makes the delete succeed on the first run.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)

	drop := nftables.ChainPolicyAccept // policies accept: rules below drop only uplink traffic
	input := c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	forward := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	clamp := c.AddChain(&nftables.Chain{Name: "mss", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityMangle, Policy: &drop})

	up := ifname(uplink)
	rule := func(ch *nftables.Chain, exprs ...expr.Any) {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	}
	fromUplink := meta(expr.MetaKeyIIFNAME, up)
	accept := &expr.Verdict{Kind: expr.VerdictAccept}

	// input
	rule(input, append(append(fromUplink, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED)...), accept)...)
	for _, port := range []uint16{500, 4500} {
		rule(input, append(append(append(fromUplink, l4(unix.IPPROTO_UDP)...), dport(port)...), accept)...)
	}
	rule(input, append(append(append(fromUplink, l4(unix.IPPROTO_UDP)...), dport(68)...), accept)...) // DHCP
	for _, proto := range []byte{unix.IPPROTO_ESP, unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6} {
		rule(input, append(append(fromUplink, l4(proto)...), accept)...)
	}
	rule(input, append(fromUplink, &expr.Verdict{Kind: expr.VerdictDrop})...)

	// forward
	rule(forward, append(fromUplink, &expr.Verdict{Kind: expr.VerdictDrop})...)

	// MSS clamp, both directions through the tunnels.
	for _, key := range []expr.MetaKey{expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME} {
		rule(clamp, append(append(meta(key, []byte("xfrm")), synMSSOver(MSS)...), setMSS(MSS)...)...)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("ipsec: installing nftables table %s: %w", FirewallTable, err)
	}
	return nil
}

// ifname is an interface name as nftables compares it: NUL-padded to
// IFNAMSIZ. A name without padding matches as a prefix ("xfrm" = xfrm*).
func ifname(n string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, n)
	return b
}

func meta(key expr.MetaKey, eq []byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: eq},
	}
}

func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

func l4(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

func dport(p uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p)},
	}
}

// tcpOptMaxseg is the TCP option kind of the MSS.
const tcpOptMaxseg = 2

// synMSSOver matches TCP SYNs (SYN set, RST clear) whose MSS option is
// larger than mss: "tcp flags & (syn|rst) == syn tcp option maxseg size > mss".
func synMSSOver(mss uint16) []expr.Any {
	return append(l4(unix.IPPROTO_TCP),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0x02 | 0x04}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x02}},
		&expr.Exthdr{DestRegister: 1, Type: tcpOptMaxseg, Offset: 2, Len: 2, Op: expr.ExthdrOpTcpopt},
		&expr.Cmp{Op: expr.CmpOpGt, Register: 1, Data: binaryutil.BigEndian.PutUint16(mss)},
	)
}

// setMSS rewrites the MSS option: "tcp option maxseg size set mss". The
// kernel fixes the TCP checksum.
func setMSS(mss uint16) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: binaryutil.BigEndian.PutUint16(mss)},
		&expr.Exthdr{SourceRegister: 1, Type: tcpOptMaxseg, Offset: 2, Len: 2, Op: expr.ExthdrOpTcpopt},
	}
}
