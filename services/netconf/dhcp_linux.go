package netconf

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
)

// DHCP keeps a DHCPv4 lease on the named interface until ctx ends: it
// requests one (retrying with back-off while no server answers), configures
// the address and default route, sends the lease on leases, and renews at
// half the lease time, starting over when a renewal fails past expiry.
func DHCP(ctx context.Context, ifname string, log *slog.Logger, leases chan<- Lease) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := holdLease(ctx, ifname, log, leases)
		if ctx.Err() != nil {
			return
		}
		log.Warn("dhcp: no lease yet, retrying", "iface", ifname, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func holdLease(ctx context.Context, ifname string, log *slog.Logger, leases chan<- Lease) error {
	link, err := Up(ifname, 30*time.Second)
	if err != nil {
		return err
	}
	log.Info("dhcp: requesting a lease", "iface", ifname, "mac", link.Attrs().HardwareAddr.String())
	var lease *nclient4.Lease
	err = withClient(ifname, func(c *nclient4.Client) error {
		reqCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var err error
		lease, err = c.Request(reqCtx)
		return err
	})
	if err != nil {
		return err
	}
	for {
		l, err := configure(link, lease.ACK)
		if err != nil {
			return err
		}
		log.Info("dhcp: lease", "iface", ifname, "addr", l.Address, "router", l.Router, "lease_time", l.Duration)
		select {
		case leases <- l:
		default:
		}
		expires := time.Now().Add(l.Duration)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(l.Duration / 2):
		}
		for {
			err := withClient(ifname, func(c *nclient4.Client) error {
				renewCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				next, err := c.Renew(renewCtx, lease)
				if err == nil {
					lease = next
				}
				return err
			})
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if time.Now().After(expires) {
				return fmt.Errorf("lease expired, renewals failed: %w", err)
			}
			log.Warn("dhcp: renewal failed", "iface", ifname, "err", err)
			time.Sleep(min(time.Until(expires), 30*time.Second))
		}
	}
}

// withClient runs f with a DHCP client on ifname and closes the client
// after. The client holds a packet socket for every IPv4 packet the
// interface receives, with no kernel filter (nclient4 reads them all and
// keeps the DHCP ones): held for the whole lease, it would copy each ESP
// packet of the uplink into this process, which halved the throughput
// from AWS in the lab (TestDataPlane). It is open only for the seconds a
// request or renewal takes.
func withClient(ifname string, f func(*nclient4.Client) error) error {
	c, err := nclient4.New(ifname, nclient4.WithTimeout(2*time.Second), nclient4.WithRetry(3))
	if err != nil {
		return fmt.Errorf("dhcp client on %s: %w", ifname, err)
	}
	defer c.Close()
	return f(c)
}

// configure applies an ACK: address with the lease's lifetime, default route.
func configure(link netlink.Link, ack *dhcpv4.DHCPv4) (Lease, error) {
	ip, _ := netip.AddrFromSlice(ack.YourIPAddr.To4())
	ones, _ := ack.SubnetMask().Size()
	if ack.SubnetMask() == nil {
		ones = 24
	}
	l := Lease{
		Interface: link.Attrs().Name,
		Address:   netip.PrefixFrom(ip, ones),
		Duration:  ack.IPAddressLeaseTime(time.Hour),
	}
	l.Server, _ = netip.AddrFromSlice(ack.ServerIdentifier().To4())
	secs := int(l.Duration / time.Second)
	addr := &netlink.Addr{IPNet: prefixIPNet(l.Address), ValidLft: secs, PreferedLft: secs}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return l, fmt.Errorf("%s: add %s: %w", l.Interface, l.Address, err)
	}
	if routers := ack.Router(); len(routers) > 0 {
		l.Router, _ = netip.AddrFromSlice(routers[0].To4())
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: routers[0], Dst: &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}}
		if err := netlink.RouteReplace(r); err != nil {
			return l, fmt.Errorf("%s: default route via %s: %w", l.Interface, l.Router, err)
		}
	}
	return l, nil
}
