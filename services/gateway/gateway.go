package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidegate/tidegate/init/console"
	"github.com/tidegate/tidegate/services/metadata"
	"github.com/tidegate/tidegate/services/netconf"
)

// Options say where the gateway's configuration comes from.
type Options struct {
	// ConfigFile and Name select standalone mode: the site YAML from a file
	// and the gateways entry called Name. No DHCP, no Metadata Service.
	ConfigFile, Name string

	// Appliance mode (ConfigFile empty): the public interface brought up by
	// DHCP and the Metadata Service at MetadataURL ("" = 169.254.169.254).
	PublicInterface string // [eth0]
	MetadataURL     string

	// RunDir holds runtime files (strongswan.conf, the VICI socket).
	RunDir string // [/run/tidegate]
	// Charon is the path of strongSwan's IKE daemon.
	Charon string // [/usr/lib/ipsec/charon]

	// XFRMInterfaces creates an XFRM interface per tunnel: on the
	// appliance, not on a host kernel without them (tests).
	XFRMInterfaces bool

	Version string
	Log     *slog.Logger
}

func (o *Options) defaults() {
	if o.PublicInterface == "" {
		o.PublicInterface = "eth0"
	}
	if o.RunDir == "" {
		o.RunDir = "/run/tidegate"
	}
	if o.Charon == "" {
		o.Charon = "/usr/lib/ipsec/charon"
	}
	if o.Log == nil {
		o.Log = console.Default()
	}
}

// Run runs the gateway until ctx ends.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	log := o.Log.With("svc", "gateway")
	log.Info("tidegate starting", "version", o.Version, "mode", mode(o))

	var role *Role
	if o.ConfigFile != "" {
		var err error
		if role, err = roleFromFile(o.ConfigFile, o.Name); err != nil {
			return err
		}
		if err := netconf.SetAddress(role.Site.VLAN.Interface, role.VLANAddress); err != nil {
			return err
		}
	} else {
		var err error
		if role, err = appliance(ctx, o, log); err != nil {
			return err
		}
	}
	log.Info("configured", "gateway", role.Self.Name, "site", role.Site.Site,
		"vlan", role.Site.VLAN.Interface, "addr", role.VLANAddress,
		"tunnels", len(role.Self.Tunnels), "since_boot", console.Uptime().Round(time.Millisecond))

	return runServices(ctx, o, role)
}

func mode(o Options) string {
	if o.ConfigFile != "" {
		return "standalone"
	}
	return "appliance"
}

// appliance does what a Linode boot needs before the services can start.
func appliance(ctx context.Context, o Options, log *slog.Logger) (*Role, error) {
	if err := netconf.Loopback(); err != nil {
		log.Error("loopback", "err", err)
	}
	leases := make(chan netconf.Lease, 1)
	go netconf.DHCP(ctx, o.PublicInterface, o.Log.With("svc", "net"), leases)
	var lease netconf.Lease
	select {
	case lease = <-leases:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	md := metadata.New(o.MetadataURL, metadata.WithLogger(o.Log.With("svc", "metadata")))
	// The VLAN interface name comes from the configuration, which we do not
	// have yet: eth1 is where Linode puts the second interface of a profile.
	role, err := roleFromMetadata(ctx, md, "eth1", log)
	if err != nil {
		return nil, err
	}
	role.PublicAddress = lease.Address.Addr()
	if iface := role.Site.VLAN.Interface; iface != "eth1" || role.Self.VLANAddress.IsValid() {
		if err := netconf.SetAddress(iface, role.VLANAddress); err != nil {
			return nil, fmt.Errorf("VLAN interface: %w", err)
		}
	}
	return role, nil
}
