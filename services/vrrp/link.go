package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
)

var (
	// multicastMAC is 224.0.0.18 mapped to Ethernet (RFC 1112 §6.4).
	multicastMAC = net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12}
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// virtualMAC is the RFC 5798 §7.3 virtual router MAC, 00:00:5e:00:01:VRID.
func virtualMAC(vrid uint8) net.HardwareAddr {
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x01, vrid}
}

// vrrpFilter passes IPv4 datagrams of protocol 112 to 224.0.0.18 and nothing
// else, so that the socket does not copy the VLAN's data traffic to user
// space. Everything else about the packet (TTL, checksums, VRRP fields) is
// checked in Go, where a reject is counted.
var vrrpFilter = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 9, Size: 1}, // IPv4 protocol (Datagram sockets start at the IP header)
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: ipProtoVRRP, SkipTrue: 3},
		bpf.LoadAbsolute{Off: 16, Size: 4}, // destination address
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0xe0000012, SkipTrue: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // a constant program: cannot fail
	}
	return raw
}()

// link is the router's view of the VLAN: the sockets and the addresses.
//
// Why AF_PACKET (mdlayher/packet) and not a raw IP socket for VRRP: a raw
// socket only sees what the host's IP stack lets through (multicast routing
// and rp_filter decisions, its own addresses as sources during split brain,
// fragments reassembled), and it sends with whatever source address and MAC
// the routing table picks. On the packet layer the router sees every VRRP
// frame that reaches the interface, checks TTL and checksums itself (and
// counts rejects), and sends with exactly the source address and MAC
// VRRP needs: the interface's own MAC by default, like keepalived, or the
// virtual MAC by sending on a macvlan that carries it. Joining the
// 01:00:5e:00:00:12 group at the link layer (PACKET_ADD_MEMBERSHIP) makes
// NICs that filter multicast deliver the adverts.
//
// With the virtual MAC, adverts are also received on the macvlan: the
// kernel hands a multicast frame whose source MAC is a local private-mode
// macvlan's (the peer master sends from the same virtual MAC) to that
// macvlan only, never to the base interface.
type link struct {
	base    *net.Interface // the VLAN interface
	vif     *net.Interface // where adverts, ARP and the addresses go: base, or the macvlan
	primary netip.Addr     // base's primary IPv4 address: the adverts' source
	vips    []netip.Prefix
	owner   bool // priority 255: the addresses are the interface's own

	// recv reads the adverts and also sends ours: every socket bound to
	// IPv4 on the VLAN sees each forwarded packet (the filter drops it in
	// the kernel, but each socket costs a delivery), so one does both.
	recv, arp *packet.Conn
	closed    atomic.Bool // set before the sockets are closed

	vmacName string      // the macvlan we created, deleted on close
	restore  [][2]string // sysctl path and value to put back on close
}

// openLink resolves the interfaces, creates the macvlan if asked, and opens
// the sockets.
func openLink(cfg *Config) (_ *link, err error) {
	l := &link{vips: cfg.VirtualIPs, owner: cfg.Priority == 255}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	l.base, err = net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("vrrp: interface %q: %w", cfg.Interface, err)
	}
	if l.primary, err = primaryAddr(l.base, cfg.VirtualIPs, cfg.Prefix); err != nil {
		return nil, err
	}
	l.vif = l.base
	if cfg.UseVirtualMAC {
		if err := l.setupVMAC(cfg.VRID); err != nil {
			return nil, err
		}
	}
	l.recv, err = packet.Listen(l.vif, packet.Datagram, etherTypeIPv4, &packet.Config{Filter: vrrpFilter})
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen on %s: %w", l.vif.Name, err)
	}
	if err := l.recv.JoinGroup(multicastMAC); err != nil {
		return nil, fmt.Errorf("vrrp: join 224.0.0.18 on %s: %w", l.vif.Name, err)
	}
	// The ARP socket never reads: a filter that rejects everything keeps
	// its receive queue empty.
	never, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if l.arp, err = packet.Listen(l.vif, packet.Datagram, etherTypeARP, &packet.Config{Filter: never}); err != nil {
		return nil, fmt.Errorf("vrrp: open ARP socket on %s: %w", l.vif.Name, err)
	}
	return l, nil
}

// primaryAddr is the interface's first primary IPv4 address that is not a
// virtual one, inside prefix when it is valid: VRRP's "primary IP address",
// the source of adverts and the tie breaker. Outside the VLAN prefix our
// adverts would be dropped by the peer (DropSource), so there is no
// fallback to another address.
func primaryAddr(ifi *net.Interface, vips []netip.Prefix, prefix netip.Prefix) (netip.Addr, error) {
	nl, err := netlink.LinkByIndex(ifi.Index)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vrrp: link %s: %w", ifi.Name, err)
	}
	addrs, err := netlink.AddrList(nl, familyV4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vrrp: addresses of %s: %w", ifi.Name, err)
	}
	var fallback netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok || (prefix.IsValid() && !prefix.Contains(ip)) {
			continue
		}
		if isVIP(ip, vips) {
			fallback = ip // an owner's only address may be the virtual one
			continue
		}
		if a.Flags&ifaSecondary == 0 {
			return ip, nil
		}
	}
	if fallback.IsValid() {
		return fallback, nil
	}
	if prefix.IsValid() {
		return netip.Addr{}, fmt.Errorf("vrrp: interface %s has no IPv4 address in the VLAN %v to send adverts from", ifi.Name, prefix)
	}
	return netip.Addr{}, fmt.Errorf("vrrp: interface %s has no IPv4 address to send adverts from", ifi.Name)
}

func isVIP(ip netip.Addr, vips []netip.Prefix) bool {
	for _, p := range vips {
		if p.Addr() == ip {
			return true
		}
	}
	return false
}

// setupVMAC creates the macvlan "vrrp.VRID" with the virtual MAC in private
// mode, the way keepalived's use_vmac does.
func (l *link) setupVMAC(vrid uint8) error {
	name := fmt.Sprintf("vrrp.%d", vrid)
	if existing, err := netlink.LinkByName(name); err == nil {
		// Left over by a crashed run: start clean.
		_ = netlink.LinkDel(existing)
	}
	mv := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: l.base.Index, HardwareAddr: virtualMAC(vrid)},
		Mode:      netlink.MACVLAN_MODE_PRIVATE,
	}
	if err := netlink.LinkAdd(mv); err != nil {
		return fmt.Errorf("vrrp: create macvlan %s: %w", name, err)
	}
	l.vmacName = name
	// No IPv6 on the macvlan: its link-local DAD and router solicitations
	// would come from the shared virtual MAC on the backup too.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1"), 0o644)
	// arp_ignore=1 on both: each interface answers ARP only for its own
	// addresses (the base for its primary, the macvlan, with the virtual
	// MAC, for the virtual ones). arp_announce=2 on the base: its own ARP
	// requests (e.g. to answer a host that pinged the VIP) name its primary
	// address, not the VIP, which would point hosts at the base's MAC.
	for _, sc := range []struct{ ifname, key string }{
		{l.base.Name, "arp_ignore"}, {l.base.Name, "arp_announce"}, {name, "arp_ignore"},
	} {
		path := "/proc/sys/net/ipv4/conf/" + sc.ifname + "/" + sc.key
		val := "1"
		if sc.key == "arp_announce" {
			val = "2"
		}
		if sc.ifname == l.base.Name {
			if old, err := os.ReadFile(path); err == nil {
				l.restore = append(l.restore, [2]string{path, strings.TrimSpace(string(old))})
			}
		}
		if err := os.WriteFile(path, []byte(val), 0o644); err != nil {
			return fmt.Errorf("vrrp: set %s on %s: %w", sc.key, sc.ifname, err)
		}
	}
	if err := netlink.LinkSetUp(mv); err != nil {
		return fmt.Errorf("vrrp: bring up %s: %w", name, err)
	}
	vif, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("vrrp: macvlan %s: %w", name, err)
	}
	l.vif = vif
	return nil
}

// sendAdvert writes one advert datagram to 224.0.0.18.
func (l *link) sendAdvert(b []byte) error {
	_, err := l.recv.WriteTo(b, &packet.Addr{HardwareAddr: multicastMAC})
	return err
}

// addVIPs adds the virtual addresses to vif; already present is fine.
func (l *link) addVIPs() error {
	return l.eachVIP("add %v to %s", netlink.AddrAdd, syscall.EEXIST)
}

// delVIPs removes the virtual addresses; already gone is fine. An address
// owner never removes them: they are its own.
func (l *link) delVIPs() error {
	if l.owner {
		return nil
	}
	return l.eachVIP("remove %v from %s", netlink.AddrDel, syscall.EADDRNOTAVAIL, syscall.ENODEV)
}

// eachVIP applies op (netlink.AddrAdd or AddrDel) to every virtual address
// on vif, going on past a failure; the errors in fine mean the address is
// already as op would leave it. what describes one step for an error
// ("add %v to %s": the address, then the interface).
func (l *link) eachVIP(what string, op func(netlink.Link, *netlink.Addr) error, fine ...error) error {
	nl, err := netlink.LinkByIndex(l.vif.Index)
	if err != nil {
		return fmt.Errorf("vrrp: link %s: %w", l.vif.Name, err)
	}
	var errs []error
	for _, p := range l.vips {
		err := op(nl, &netlink.Addr{IPNet: prefixToIPNet(p)})
		if err != nil && !slices.ContainsFunc(fine, func(f error) bool { return errors.Is(err, f) }) {
			errs = append(errs, fmt.Errorf("vrrp: "+what+": %w", p, l.vif.Name, err))
		}
	}
	return errors.Join(errs...)
}

// garp broadcasts one gratuitous ARP request per virtual address (sender
// and target both the address, target MAC broadcast, as keepalived sends),
// which makes every host on the VLAN point its ARP entry at vif's MAC.
func (l *link) garp() error {
	var errs []error
	for _, p := range l.vips {
		pkt, err := arp.NewPacket(arp.OperationRequest, l.vif.HardwareAddr, p.Addr(), broadcastMAC, p.Addr())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b, err := pkt.MarshalBinary()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := l.arp.WriteTo(b, &packet.Addr{HardwareAddr: broadcastMAC}); err != nil {
			errs = append(errs, fmt.Errorf("vrrp: gratuitous ARP for %v: %w", p.Addr(), err))
		}
	}
	return errors.Join(errs...)
}

// close closes the sockets and undoes setupVMAC. The caller has already
// released the addresses (or deliberately kept them).
func (l *link) close() {
	l.closed.Store(true)
	for _, c := range []*packet.Conn{l.recv, l.arp} {
		if c != nil {
			_ = c.Close()
		}
	}
	if l.vmacName != "" {
		if nl, err := netlink.LinkByName(l.vmacName); err == nil {
			_ = netlink.LinkDel(nl)
		}
	}
	for _, r := range l.restore {
		_ = os.WriteFile(r[0], []byte(r[1]), 0o644)
	}
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
