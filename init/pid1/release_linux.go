package pid1

import (
	"errors"
	"fmt"
	"net"

	"github.com/tidegate/tidegate/services/lifeline"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// removeClaim removes a claimed address from its interface. An interface
// or address that is not there is no error: removed is false.
func removeClaim(nl *netlink.Handle, c lifeline.Claim) (removed bool, err error) {
	link, err := nl.LinkByName(c.Interface)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) || errors.Is(err, unix.ENODEV) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", c.Interface, err)
	}
	a := c.Prefix.Addr()
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(c.Prefix.Bits(), a.BitLen())}}
	err = nl.AddrDel(link, addr)
	switch {
	case errors.Is(err, unix.EADDRNOTAVAIL), errors.Is(err, unix.ENODEV):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remove %v from %s: %w", c.Prefix, c.Interface, err)
	}
	return true, nil
}
