package netconf

import (
	"net/netip"
	"time"
)

// Lease is what the public interface got from DHCP.
type Lease struct {
	Interface string
	Address   netip.Prefix
	Router    netip.Addr
	Server    netip.Addr
	Duration  time.Duration
}
