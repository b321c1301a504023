package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/metadata"
	"github.com/tidegate/tidegate/services/netconf"
)

// Role is what this gateway runs: the whole site and its own section of it.
type Role struct {
	Site        *configs.Site
	Self        *configs.Gateway
	VLANAddress netip.Prefix // vlan_address, or the metadata ipam_address
	// PublicAddress is eth0's address (the DHCP lease on a Linode): the
	// customer gateway address AWS knows and charon's IKE source. Zero in
	// standalone mode, where charon picks by route.
	PublicAddress netip.Addr
}

// Timing of the wait for a usable configuration.
var (
	pollEvery   = 5 * time.Second
	repeatEvery = 30 * time.Second
)

// roleFromFile is the standalone path: no metadata, the file names the role.
func roleFromFile(path, name string) (*Role, error) {
	site, err := configs.Load(path)
	if err != nil {
		return nil, err
	}
	role, err := NewRole(site, name)
	if err != nil {
		return nil, err
	}
	if !role.VLANAddress.IsValid() {
		return nil, fmt.Errorf("%s: gateways[%s].vlan_address is required when running with --config (there is no Metadata Service to give an ipam_address)", path, name)
	}
	return role, nil
}

// roleFromMetadata polls the Metadata Service until its user data holds a
// valid site configuration with a section for this Linode's label. Meanwhile
// it names the host after the label and puts the ipam_address on the VLAN
// interface, so that a box with a broken configuration is still reachable on
// the VLAN. Errors are logged when they change and every repeatEvery.
//
// report is told the current configuration errors (one per line) each
// time they change, and nil once the configuration is good, for Status.
func roleFromMetadata(ctx context.Context, md *metadata.Client, vlanIface string, log *slog.Logger, report func([]string)) (*Role, error) {
	var (
		lastErr    string
		lastLogged time.Time
		hostname   string
		vlanAddr   netip.Prefix
	)
	for {
		info, err := md.Wait(ctx, nil)
		if err != nil {
			return nil, err
		}
		if info.Label != "" && info.Label != hostname {
			if err := netconf.Hostname(info.Label); err != nil {
				log.Warn("hostname", "err", err)
			}
			hostname = info.Label
		}
		if a := ipamAddress(info); a.IsValid() && a != vlanAddr {
			if err := netconf.SetAddress(vlanIface, a); err != nil {
				log.Error("VLAN address from metadata", "iface", vlanIface, "addr", a, "err", err)
			} else {
				log.Info("VLAN address from metadata", "iface", vlanIface, "addr", a)
				vlanAddr = a
			}
		}
		role, err := roleFrom(info, vlanAddr)
		if err == nil {
			report(nil)
			return role, nil
		}
		if msg := err.Error(); msg != lastErr || time.Since(lastLogged) >= repeatEvery {
			if msg != lastErr {
				report(errorLines(err))
			}
			logConfigError(log, err)
			lastErr, lastLogged = msg, time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// roleFrom picks this Linode's section of the user data.
func roleFrom(info *metadata.Info, ipam netip.Prefix) (*Role, error) {
	if len(info.UserData) == 0 {
		return nil, errors.New("this Linode has no user data: set the user data to the site YAML (configs/examples/seed.yaml)")
	}
	// The errors name key paths and lines of the user data; the console
	// header says where they come from.
	site, err := configs.Parse(info.UserData)
	if err != nil {
		return nil, err
	}
	role, err := NewRole(site, info.Label)
	if err != nil {
		return nil, err
	}
	if !role.VLANAddress.IsValid() {
		if !ipam.IsValid() {
			return nil, fmt.Errorf("gateway %s has no vlan_address and the Metadata Service lists no VLAN interface with an ipam_address (yet)", role.Self.Name)
		}
		if err := site.CheckVLANAddress(ipam); err != nil {
			return nil, fmt.Errorf("ipam_address %s from the Metadata Service: %w", ipam, err)
		}
		role.VLANAddress = ipam
	}
	return role, nil
}

// ipamAddress is the first VLAN interface's ipam_address: Linode lists the
// profile's interfaces in order and the site uses one VLAN.
func ipamAddress(info *metadata.Info) netip.Prefix {
	for _, v := range info.VLANs {
		if v.IPAMAddress.IsValid() {
			return v.IPAMAddress
		}
	}
	return netip.Prefix{}
}

// logConfigError prints one console line per problem: a long Errors value
// on one 19200-baud line is unreadable.
func logConfigError(log *slog.Logger, err error) {
	log.Error("CONFIGURATION ERROR in the user data: the gateway waits for a valid site YAML (it polls the Metadata Service; no reboot needed)")
	for _, line := range errorLines(err) {
		log.Error("config: " + line)
	}
}

// errorLines splits an error into its non-empty lines (configs.Errors has
// one problem per line).
func errorLines(err error) []string {
	var lines []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
