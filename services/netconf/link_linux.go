package netconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Up sets the named link up, waiting up to wait for it to appear: virtio
// NICs show up a moment after their module is loaded.
func Up(name string, wait time.Duration) (netlink.Link, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := netlink.LinkByName(name)
		if err == nil {
			if err := netlink.LinkSetUp(l); err != nil {
				return nil, fmt.Errorf("set %s up: %w", name, err)
			}
			return l, nil
		}
		var notFound netlink.LinkNotFoundError
		if !errors.As(err, &notFound) || time.Now().After(deadline) {
			return nil, fmt.Errorf("link %s: %w", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Loopback brings lo up; charon and the status server bind to it.
func Loopback() error {
	_, err := Up("lo", 0)
	return err
}

// SetAddress makes addr the interface's only static IPv4 address: it adds or
// replaces addr and removes other permanent IPv4 addresses on the link that
// are not listed in keep (the VRRP virtual IP, for one). Called when the
// address moves, e.g. a fixed user data changes vlan_address.
func SetAddress(name string, addr netip.Prefix, keep ...netip.Addr) error {
	l, err := Up(name, 10*time.Second)
	if err != nil {
		return err
	}
	// Removing a primary address removes the secondaries of its subnet
	// (the VRRP VIP) unless the kernel promotes them.
	promote := "/proc/sys/net/ipv4/conf/" + name + "/promote_secondaries"
	if err := os.WriteFile(promote, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	want := &netlink.Addr{IPNet: prefixIPNet(addr)}
	if err := netlink.AddrReplace(l, want); err != nil {
		return fmt.Errorf("%s: add %s: %w", name, addr, err)
	}
	have, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s: list addresses: %w", name, err)
	}
	for _, a := range have {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.Unmap() == addr.Addr() || a.Flags&unix.IFA_F_PERMANENT == 0 || contains(keep, ip.Unmap()) {
			continue
		}
		if err := netlink.AddrDel(l, &a); err != nil {
			return fmt.Errorf("%s: remove old address %s: %w", name, a.IPNet, err)
		}
	}
	return nil
}

func contains(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Hostname sets the kernel's host name (the Linode label).
func Hostname(name string) error {
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("sethostname %q: %w", name, err)
	}
	return nil
}
