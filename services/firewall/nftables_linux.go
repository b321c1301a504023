package firewall

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Install replaces the table in the calling thread's network namespace,
// in one transaction. On error the previous table, if any, stays.
func Install(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("firewall: nftables: %w", err)
	}
	build(c, cfg, lookupNICs(cfg.Uplink, cfg.VLAN))
	if err := c.Flush(); err != nil {
		return fmt.Errorf("firewall: installing nftables table %s: %w", Table, err)
	}
	return nil
}

// Counters returns the drop counters (packets) by name.
func Counters() (map[string]uint64, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("firewall: nftables: %w", err)
	}
	objs, err := c.GetNamedObjects(&nftables.Table{Name: Table, Family: nftables.TableFamilyINet})
	if err != nil {
		return nil, fmt.Errorf("firewall: reading counters: %w", err)
	}
	out := make(map[string]uint64)
	for _, o := range objs {
		if no, ok := o.(*nftables.NamedObj); ok {
			if ctr, ok := no.Obj.(*expr.Counter); ok {
				out[no.Name] = ctr.Packets
			}
		}
	}
	return out, nil
}

// build queues the whole table on c: delete and re-create, so that the
// flush swaps it atomically. nic has the NICs' indexes.
func build(c *nftables.Conn, cfg Config, nic nics) {
	t := &nftables.Table{Name: Table, Family: nftables.TableFamilyINet}
	// Adding before deleting makes the delete succeed on the first run.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	for _, name := range Drops {
		c.AddObj(&nftables.NamedObj{Table: t, Name: name, Type: nftables.ObjTypeCounter, Obj: &expr.Counter{}})
	}

	drop, accept := nftables.ChainPolicyDrop, nftables.ChainPolicyAccept
	b := ruleset{rules: rules{c: c, t: t}, cfg: cfg, nic: nic}
	b.input = c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	b.forward = c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	// A regular chain, jumped to from forward for SYNs only: the other
	// packets pay one test for the clamp, not one per tunnel.
	b.mss = c.AddChain(&nftables.Chain{Name: "mss", Table: t})
	b.notrack = c.AddChain(&nftables.Chain{Name: "notrack", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	b.notrackOut = c.AddChain(&nftables.Chain{Name: "notrack-out", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	b.addNotrack()
	b.addInput()
	b.addForward()
}

// A ruleset is the table's chains and what their rules are made of.
type ruleset struct {
	rules
	cfg Config
	nic nics

	input, forward, mss, notrack, notrackOut *nftables.Chain
}

// icmp matches ICMP and ICMPv6, a rule each.
var icmp = [][]expr.Any{l4(unix.IPPROTO_ICMP), l4(unix.IPPROTO_ICMPV6)}

// addNotrack fills the raw chains, notrack and notrack-out.
//
// Connection tracking only for the gateway's own connections: the
// forward rules below are stateless (VLAN <-> tunnels, both ways), and
// ESP is accepted by protocol, so tracking them is work for nothing,
// per packet, on the data path. The input rules' "established" needs
// tracking of what is addressed to the gateway itself only. The same
// holds for the ESP the gateway sends: after encryption each forwarded
// packet's outer one passes the output hook, where it would be tracked
// as the gateway's own.
//
// What is forwarded is told by addresses where they say it, since a
// FIB lookup per packet ("fib daddr type") costs more: from the VLAN,
// whatever is not to the VLAN prefix (the gateway's own VLAN addresses
// and the VIPs are in it); from a tunnel, whatever does not come from
// AWS's inside address (BGP and pings come from there; a VPC address
// never does). What that leaves untracked and yet addressed to the
// gateway (a VLAN host to its public address, a VPC host to its VLAN
// address) meets the input rules without their "established", which
// only ever refuses more.
//
// notrack is not a verdict: the accept after it spares the packet the
// rest of the raw chain (it ends this chain only; input and forward
// still decide).
func (b *ruleset) addNotrack() {
	up, vlan := b.nic.iif(b.cfg.Uplink), b.nic.iif(b.cfg.VLAN)
	b.add(b.notrack, up, l4(unix.IPPROTO_ESP), notrackV(), acceptV())
	b.add(b.notrackOut, b.nic.oif(b.cfg.Uplink), l4(unix.IPPROTO_ESP), notrackV(), acceptV())
	if b.cfg.VLANPrefix.IsValid() {
		b.add(b.notrack, vlan, daddrNot(b.cfg.VLANPrefix), notrackV(), acceptV())
	} else {
		b.add(b.notrack, vlan, notLocal(), notrackV(), acceptV())
	}
	for _, tu := range b.cfg.Tunnels {
		b.add(b.notrack, iif(tu.Device), saddrNot(netip.PrefixFrom(tu.Remote, 32)), notrackV(), acceptV())
	}
}

// addInput fills the input chain: ESP first (what the kernel did not
// decrypt at receive walks this chain, and it is untracked, so the state
// rules below say nothing of it); then what is the gateway's own, then
// per interface.
func (b *ruleset) addInput() {
	up, vlan := b.nic.iif(b.cfg.Uplink), b.nic.iif(b.cfg.VLAN)
	b.add(b.input, up, l4(unix.IPPROTO_ESP), acceptV())
	b.add(b.input, iif("lo"), acceptV())
	b.add(b.input, ctState(expr.CtStateBitINVALID), dropV())
	b.add(b.input, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), acceptV())

	for _, port := range []uint16{PortIKE, PortNATT} {
		b.add(b.input, up, l4(unix.IPPROTO_UDP), dport(port), acceptV())
	}
	b.add(b.input, up, l4(unix.IPPROTO_UDP), dport(portDHCP), acceptV())
	for _, p := range icmp {
		b.add(b.input, up, p, acceptV())
	}
	for _, m := range b.cfg.Management {
		b.add(b.input, up, saddr(m), l4(unix.IPPROTO_TCP), dport(b.cfg.StatusPort), acceptV())
	}
	b.add(b.input, up, counted(DropUplink), dropV())

	for _, tu := range b.cfg.Tunnels {
		dev := iif(tu.Device)
		b.add(b.input, dev, saddr(netip.PrefixFrom(tu.Remote, 32)), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
		for _, p := range icmp {
			b.add(b.input, dev, p, acceptV())
		}
		b.add(b.input, dev, counted(DropTunnel), dropV())
	}

	b.add(b.input, vlan, l4(protoVRRP), acceptV())
	for _, p := range icmp {
		b.add(b.input, vlan, p, acceptV())
	}
	switch {
	case b.cfg.Peer.IsValid():
		b.add(b.input, vlan, saddr(netip.PrefixFrom(b.cfg.Peer, 32)), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
	case b.cfg.VLANPrefix.IsValid():
		b.add(b.input, vlan, saddr(b.cfg.VLANPrefix.Masked()), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
	}
	if b.cfg.StatusPort != 0 && b.cfg.VLANPrefix.IsValid() {
		b.add(b.input, vlan, saddr(b.cfg.VLANPrefix.Masked()), l4(unix.IPPROTO_TCP), dport(b.cfg.StatusPort), acceptV())
	}
	b.add(b.input, vlan, counted(DropVLAN), dropV())
	b.add(b.input, counted(DropOther), dropV())
}

// addForward fills the forward chain and its mss chain: the MSS clamp,
// both directions through the tunnels (SYN and SYN-ACK); then the VLAN and
// the tunnels, both ways, and nothing else.
func (b *ruleset) addForward() {
	vlan := b.nic.iif(b.cfg.VLAN)
	b.add(b.forward, syn(), jumpV(b.mss.Name))
	for _, tu := range b.cfg.Tunnels {
		b.add(b.forward, vlan, oif(tu.Device), acceptV())
		b.add(b.forward, iif(tu.Device), b.nic.oif(b.cfg.VLAN), acceptV())
	}
	b.add(b.forward, counted(DropForward), dropV())
	for _, tu := range b.cfg.Tunnels {
		b.add(b.mss, oif(tu.Device), mssOver(tu.MSS), setMSS(tu.MSS))
		b.add(b.mss, iif(tu.Device), mssOver(tu.MSS), setMSS(tu.MSS))
	}
}

// protoVRRP is VRRP's IP protocol number (RFC 5798).
const protoVRRP = 112
