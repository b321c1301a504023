//go:build !linux

package netconf

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
)

// The appliance's interfaces are Linux's. On other systems (a workstation
// running the operator's commands, which link the gateway's packages) the
// package builds and every call fails.
var errNotLinux = errors.New("netconf: configuring interfaces needs Linux")

// Up fails: netlink is Linux's.
func Up(string, time.Duration) (netlink.Link, error) { return nil, errNotLinux }

// Loopback fails: netlink is Linux's.
func Loopback() error { return errNotLinux }

// SetAddress fails: netlink is Linux's.
func SetAddress(string, netip.Prefix, ...netip.Addr) error { return errNotLinux }

// Hostname fails: only Linux's host name is set.
func Hostname(string) error { return errNotLinux }

// DHCP logs that it cannot run and waits for ctx, as the Linux client
// does when no server ever answers.
func DHCP(ctx context.Context, ifname string, log *slog.Logger, _ chan<- Lease) {
	log.Error("dhcp: not on this system", "iface", ifname, "err", errNotLinux)
	<-ctx.Done()
}
