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

const etherTypeARP = 0x0806

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// virtualMAC is the RFC 5798 §7.3 virtual router MAC, 00:00:5e:00:01:VRID.
func virtualMAC(vrid uint8) net.HardwareAddr {
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x01, vrid}
}

// link is the router's view of the VLAN: the sockets and the addresses.
//
// Adverts go through a raw IPv4 socket (socket.go says why not AF_PACKET),
// on the VLAN interface, or on the macvlan that carries the virtual MAC:
// the kernel hands a multicast frame whose source MAC is a local
// private-mode macvlan's (the peer master sends from the same virtual MAC)
// to that macvlan only, never to the base interface, and sends ours with
// the interface's MAC, the virtual one on the macvlan. Gratuitous ARP needs
// the link layer: an AF_PACKET socket for ARP (mdlayher/packet).
type link struct {
	base    *net.Interface // the VLAN interface
	vif     *net.Interface // where adverts, ARP and the addresses go: base, or the macvlan
	primary netip.Addr     // base's primary IPv4 address: the adverts' source
	vips    []netip.Prefix
	owner   bool // priority 255: the addresses are the interface's own

	vrrp   *ipSocket    // adverts, both ways
	arp    *packet.Conn // gratuitous ARP, send only
	closed atomic.Bool  // set before the sockets are closed

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
	if l.vrrp, err = listenVRRP(l.vif); err != nil {
		return nil, err
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

// sendAdvert sends one advert datagram (IPv4 header included) to 224.0.0.18.
func (l *link) sendAdvert(b []byte) error { return l.vrrp.send(b) }

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
	if l.vrrp != nil {
		_ = l.vrrp.close()
	}
	if l.arp != nil {
		_ = l.arp.Close()
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
