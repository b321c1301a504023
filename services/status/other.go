//go:build !linux

package status

import "errors"

// The server's VLAN listener and its route listing are Linux's. On other
// systems (a workstation running `tidegate status`) the client and the
// tables build and work; these fail.
var errNotLinux = errors.New("status: needs Linux")

func freebind(uintptr) error { return errNotLinux }

// KernelRoutes fails: only Linux has the routes BGP installs.
func KernelRoutes() ([]Route, error) { return nil, errNotLinux }

func kernelRoutes(int) ([]Route, int, error) { return nil, 0, errNotLinux }
