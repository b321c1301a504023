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
	input := c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	forward := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	// A regular chain, jumped to from forward for SYNs only: the other
	// packets pay one test for the clamp, not one per tunnel.
	clamp := c.AddChain(&nftables.Chain{Name: "mss", Table: t})
	raw := c.AddChain(&nftables.Chain{Name: "notrack", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	rawOut := c.AddChain(&nftables.Chain{Name: "notrack-out", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityRaw, Policy: &accept})

	r := rules{c: c, t: t}
	up, vlan := nic.iif(cfg.Uplink), nic.iif(cfg.VLAN)
	icmp := [][]expr.Any{l4(unix.IPPROTO_ICMP), l4(unix.IPPROTO_ICMPV6)}

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
	r.add(raw, up, l4(unix.IPPROTO_ESP), notrackV(), acceptV())
	r.add(rawOut, nic.oif(cfg.Uplink), l4(unix.IPPROTO_ESP), notrackV(), acceptV())
	if cfg.VLANPrefix.IsValid() {
		r.add(raw, vlan, daddrNot(cfg.VLANPrefix), notrackV(), acceptV())
	} else {
		r.add(raw, vlan, notLocal(), notrackV(), acceptV())
	}
	for _, tu := range cfg.Tunnels {
		r.add(raw, iif(tu.Device), saddrNot(netip.PrefixFrom(tu.Remote, 32)), notrackV(), acceptV())
	}

	// input: ESP first (what the kernel did not decrypt at receive walks
	// this chain, and it is untracked, so the state rules below say
	// nothing of it); then what is the gateway's own, then per interface.
	r.add(input, up, l4(unix.IPPROTO_ESP), acceptV())
	r.add(input, iif("lo"), acceptV())
	r.add(input, ctState(expr.CtStateBitINVALID), dropV())
	r.add(input, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), acceptV())

	for _, port := range []uint16{PortIKE, PortNATT} {
		r.add(input, up, l4(unix.IPPROTO_UDP), dport(port), acceptV())
	}
	r.add(input, up, l4(unix.IPPROTO_UDP), dport(portDHCP), acceptV())
	for _, p := range icmp {
		r.add(input, up, p, acceptV())
	}
	for _, m := range cfg.Management {
		r.add(input, up, saddr(m), l4(unix.IPPROTO_TCP), dport(cfg.StatusPort), acceptV())
	}
	r.add(input, up, counted(DropUplink), dropV())

	for _, tu := range cfg.Tunnels {
		dev := iif(tu.Device)
		r.add(input, dev, saddr(netip.PrefixFrom(tu.Remote, 32)), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
		for _, p := range icmp {
			r.add(input, dev, p, acceptV())
		}
		r.add(input, dev, counted(DropTunnel), dropV())
	}

	r.add(input, vlan, l4(protoVRRP), acceptV())
	for _, p := range icmp {
		r.add(input, vlan, p, acceptV())
	}
	switch {
	case cfg.Peer.IsValid():
		r.add(input, vlan, saddr(netip.PrefixFrom(cfg.Peer, 32)), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
	case cfg.VLANPrefix.IsValid():
		r.add(input, vlan, saddr(cfg.VLANPrefix.Masked()), l4(unix.IPPROTO_TCP), dport(PortBGP), acceptV())
	}
	if cfg.StatusPort != 0 && cfg.VLANPrefix.IsValid() {
		r.add(input, vlan, saddr(cfg.VLANPrefix.Masked()), l4(unix.IPPROTO_TCP), dport(cfg.StatusPort), acceptV())
	}
	r.add(input, vlan, counted(DropVLAN), dropV())
	r.add(input, counted(DropOther), dropV())

	// forward: the MSS clamp, both directions through the tunnels (SYN
	// and SYN-ACK); then the VLAN and the tunnels, both ways, and nothing
	// else.
	r.add(forward, syn(), jumpV(clamp.Name))
	for _, tu := range cfg.Tunnels {
		r.add(forward, vlan, oif(tu.Device), acceptV())
		r.add(forward, iif(tu.Device), nic.oif(cfg.VLAN), acceptV())
	}
	r.add(forward, counted(DropForward), dropV())
	for _, tu := range cfg.Tunnels {
		r.add(clamp, oif(tu.Device), mssOver(tu.MSS), setMSS(tu.MSS))
		r.add(clamp, iif(tu.Device), mssOver(tu.MSS), setMSS(tu.MSS))
	}
}

// protoVRRP is VRRP's IP protocol number (RFC 5798).
const protoVRRP = 112
