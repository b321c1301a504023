//go:build !linux

package bgp

import (
	"errors"

	"github.com/vishvananda/netlink"
)

// The speaker installs its routes in Linux's kernel table. On other
// systems (a workstation running `tidegate render`) the package builds for
// its configuration types; running a speaker fails.
var errNotLinux = errors.New("bgp: the kernel routing table needs Linux")

func newRouteHandle() (*netlink.Handle, error) { return nil, errNotLinux }

type routeWriter struct{}

func newRouteWriter(int) (*routeWriter, error) { return nil, errNotLinux }

func (*routeWriter) write(ops []routeOp) []error {
	errs := make([]error, len(ops))
	for i := range errs {
		errs[i] = errNotLinux
	}
	return errs
}

func (*routeWriter) Close() error { return nil }

func (*kernel) ours() (map[pkey]kroute, bool, error) { return nil, false, errNotLinux }
