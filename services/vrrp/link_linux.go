package vrrp

import (
	"syscall"

	"github.com/vishvananda/netlink"
)

// What primaryAddr asks netlink for, named here because only Linux's
// packages define them.
const (
	familyV4     = netlink.FAMILY_V4
	ifaSecondary = syscall.IFA_F_SECONDARY
)

// bindToDevice keeps a socket to one interface's traffic (SO_BINDTODEVICE).
func bindToDevice(fd int, name string) error {
	return syscall.SetsockoptString(fd, syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, name)
}
