package ipsec

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/tidegate/tidegate/configs"
	"github.com/vishvananda/netlink"
)

// ensureInterfaces makes the calling thread's network namespace have one
// XFRM interface per tunnel (see InterfaceFor): its if_id, MTU, the tunnel's
// name as alias, the gateway's inside address (.2/30, so the /30 gives the
// route to AWS's .1) and up. Interfaces that exist and are right are left
// alone, so a restart of the gateway or of charon does not flap them.
// XFRM interfaces named xfrm<N> that no tunnel has are deleted. uplink, if
// it exists, is the interfaces' underlying device.
func ensureInterfaces(tunnels []configs.Tunnel, uplink string, sysctls bool) error {
	parent := 0
	if l, err := netlink.LinkByName(uplink); err == nil {
		parent = l.Attrs().Index
	}
	want := map[string]bool{}
	var errs []error
	for _, t := range tunnels {
		name, _ := InterfaceFor(t)
		want[name] = true
		if err := ensureInterface(t, parent, sysctls); err != nil {
			errs = append(errs, err)
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("ipsec: listing links: %w", err)
	}
	for _, l := range links {
		name := l.Attrs().Name
		if _, ok := l.(*netlink.Xfrmi); ok && strings.HasPrefix(name, "xfrm") && !want[name] {
			if err := netlink.LinkDel(l); err != nil {
				errs = append(errs, fmt.Errorf("ipsec: deleting %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func ensureInterface(t configs.Tunnel, parent int, sysctls bool) error {
	name, id := InterfaceFor(t)
	mtu := t.MTU()
	fail := func(what string, err error) error {
		return fmt.Errorf("ipsec: tunnel %q: %s %s: %w", t.Name, what, name, err)
	}
	l, err := netlink.LinkByName(name)
	if err == nil {
		if x, ok := l.(*netlink.Xfrmi); !ok || x.Ifid != id {
			// Something else has the name, or an older if_id: replace it.
			if err := netlink.LinkDel(l); err != nil {
				return fail("deleting", err)
			}
			l = nil
		}
	} else {
		l = nil
	}
	if l == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU, attrs.ParentIndex = name, mtu, parent
		if err := netlink.LinkAdd(&netlink.Xfrmi{LinkAttrs: attrs, Ifid: id}); err != nil {
			return fail("creating", err)
		}
		if l, err = netlink.LinkByName(name); err != nil {
			return fail("finding", err)
		}
	}
	if l.Attrs().MTU != mtu {
		if err := netlink.LinkSetMTU(l, mtu); err != nil {
			return fail("setting the MTU of", err)
		}
	}
	if l.Attrs().Alias != t.Name {
		if err := netlink.LinkSetAlias(l, t.Name); err != nil {
			return fail("setting the alias of", err)
		}
	}
	if sysctls {
		if err := sysctl("net.ipv4.conf."+name+".rp_filter", "0"); err != nil {
			return err
		}
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fail("listing the addresses of", err)
	}
	inside := t.LocalInside()
	have := false
	for _, a := range addrs {
		if a.IPNet.String() == inside.String() {
			have = true
			continue
		}
		if err := netlink.AddrDel(l, &a); err != nil {
			return fail("removing an old address from", err)
		}
	}
	if !have {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: inside.Addr().AsSlice(), Mask: net.CIDRMask(inside.Bits(), 32)}}
		if err := netlink.AddrAdd(l, a); err != nil {
			return fail("adding "+inside.String()+" to", err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fail("bringing up", err)
	}
	return nil
}

// flushXFRM deletes every IPsec SA and policy in the calling thread's
// network namespace. A charon that was killed leaves its SAs and policies
// in the kernel; the new one negotiates new SAs, and the old ones would only
// linger (or, with the same reqid, be picked for outbound traffic).
func flushXFRM() error {
	if err := netlink.XfrmStateFlush(0); err != nil {
		return fmt.Errorf("ipsec: flushing IPsec SAs: %w", err)
	}
	if err := netlink.XfrmPolicyFlush(); err != nil {
		return fmt.Errorf("ipsec: flushing IPsec policies: %w", err)
	}
	return nil
}
