//go:build !linux

package vrrp

import "errors"

// VRRP runs on Linux's interfaces only. On other systems (a workstation
// running `tidegate render`) the package builds for its configuration
// types; netlink's calls fail there with its own "not implemented" error,
// so these values are never sent anywhere. They are Linux's.
const (
	familyV4     = 2    // AF_INET
	ifaSecondary = 0x01 // IFA_F_SECONDARY
)

func bindToDevice(int, string) error { return errors.ErrUnsupported }
