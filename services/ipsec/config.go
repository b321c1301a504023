package ipsec

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tidegate/tidegate/configs"
)

// Defaults for Config fields left zero.
const (
	DefaultCharon            = "/usr/lib/ipsec/charon"
	DefaultReconcileInterval = 15 * time.Second
)

// Config configures a Service.
type Config struct {
	// Charon is the path of the charon daemon; [DefaultCharon].
	Charon string
	// RunDir holds strongswan.conf, the VICI socket (charon.vici) and
	// charon's pid file, e.g. /run/tidegate/ipsec; it is created with mode
	// 0700. Required.
	RunDir string
	// Tunnels are this gateway's tunnels; may be empty. Parse them with
	// configs, which fills every default and validates them.
	Tunnels []configs.Tunnel
	// LocalAddress is eth0's address, the IKE source; the zero Addr lets
	// charon pick by route.
	LocalAddress netip.Addr
	// Logger receives the service's and charon's log lines; [slog.Default].
	Logger *slog.Logger
	// XFRMInterfaces makes Run create one XFRM interface per tunnel. The host
	// kernel the tests run on has none, so host tests leave it false: the
	// connections are loaded with their if_id all the same.
	XFRMInterfaces bool
	// Uplink is the interface facing the Internet, where IKE and ESP
	// arrive; [eth0]. The XFRM interfaces are bound to it when it exists.
	Uplink string
	// Sysctls makes Run set the sysctls route-based tunnels need:
	// forwarding on, reverse-path filtering off (see routeSysctls).
	Sysctls bool
	// NetNS, when set, is the path of a network namespace (/run/netns/NAME)
	// in which charon runs and which the service configures. For tests and
	// labs; the gateway leaves it empty.
	NetNS string
	// ReconcileInterval is how often list-sas checks every tunnel;
	// [DefaultReconcileInterval].
	ReconcileInterval time.Duration
	// OnCharon, when set, is called each time a charon (the first, or one
	// started again) answers on VICI, before its connections are loaded:
	// the gateway's boot timeline marks it. It must not block.
	OnCharon func()
}

func (c Config) withDefaults() Config {
	if c.Charon == "" {
		c.Charon = DefaultCharon
	}
	if c.Uplink == "" {
		c.Uplink = "eth0"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReconcileInterval <= 0 {
		c.ReconcileInterval = DefaultReconcileInterval
	}
	c.Tunnels = append([]configs.Tunnel(nil), c.Tunnels...)
	return c
}

// checkTunnels catches what would make a VICI message meaningless. The full
// rules (AWS's PSK alphabet, proposals, lifetimes) are configs' job; this
// only guards against hand-built Tunnels. Errors never quote a PSK.
func checkTunnels(ts []configs.Tunnel) error {
	var errs []error
	names := map[string]bool{}
	ifids := map[uint32]string{}
	for i, t := range ts {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("ipsec: tunnel %d (%q): %s", i, t.Name, fmt.Sprintf(format, a...)))
		}
		switch {
		case t.Name == "":
			bad("no name")
		case names[t.Name]:
			bad("duplicate name")
		}
		names[t.Name] = true
		if !t.OutsideAddress.Is4() {
			bad("outside address %v is not IPv4", t.OutsideAddress)
		}
		if !t.InsideCIDR.IsValid() || !t.InsideCIDR.Addr().Is4() || t.InsideCIDR.Bits() != 30 {
			bad("inside CIDR %v is not an IPv4 /30", t.InsideCIDR)
		} else {
			id := ifID(t)
			if other, dup := ifids[id]; dup {
				bad("inside CIDR %v gives the same if_id as tunnel %q", t.InsideCIDR, other)
			}
			ifids[id] = t.Name
		}
		if t.PSK.IsZero() {
			bad("no pre-shared key")
		}
		if t.IKEVersion != 1 && t.IKEVersion != 2 {
			bad("IKE version %d", t.IKEVersion)
		}
		if len(t.Proposals) == 0 || len(t.ESPProposals) == 0 {
			bad("no IKE or ESP proposals")
		}
		if t.DPDDelay <= 0 || t.IKELifetime <= 0 || t.ChildLifetime <= 0 {
			bad("DPD delay and lifetimes must be positive")
		}
	}
	return errors.Join(errs...)
}
