package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/lifeline"
	"github.com/tidegate/tidegate/services/metadata"
	"github.com/tidegate/tidegate/services/netconf"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/syslog"
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

	// XFRMInterfaces creates an XFRM interface per tunnel, Firewall
	// installs the packet filter and MSS clamp (firewall.go), Sysctls turns
	// forwarding on and reverse-path filtering off (see package ipsec). All
	// three belong to the appliance, which owns its kernel; standalone mode
	// leaves them off because it shares a host (or a test namespace) with
	// other things.
	XFRMInterfaces bool
	Firewall       bool
	Sysctls        bool

	// Lifeline links the gateway to PID 1 (lifeline.FromEnv): the main
	// loop beats on it, and the virtual IPs are claimed on it so that PID 1
	// removes them from the VLAN interface if this process dies. nil (an
	// ordinary process) does nothing.
	Lifeline *lifeline.Lifeline

	Version string
	Log     *slog.Logger
	// Uptime is the time since the machine booted, logged when the
	// gateway is configured ("time to configured" on an appliance); nil
	// or zero when unknown. Command tidegate passes the kernel's clock.
	Uptime func() time.Duration
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
		o.Log = consolelog.Default()
	}
}

// sinceBoot is Uptime to the millisecond, zero without one.
func (o *Options) sinceBoot() time.Duration {
	if o.Uptime == nil {
		return 0
	}
	return o.Uptime().Round(time.Millisecond)
}

// A Gateway is one gateway process: it finds its role, then runs the
// services for it. Create it with New, run it with Run; Status may be called
// from any goroutine at any time.
type Gateway struct {
	o       Options
	log     *slog.Logger
	started time.Time

	mu    sync.Mutex
	ran   bool
	phase string
	role  *Role
	svcs  *services // nil until the services are built
	err   string    // why the services stopped, if one failed
	// configErrors are the user data's problems while configuring.
	configErrors []string
	// boot is the boot timeline (timeline.go).
	boot *timeline

	// statusAddr is the address of the status API's TCP listener, the
	// zero Addr until the role is known; statusWake tells the status server
	// that it changed (statusserver.go).
	statusAddr netip.Addr
	statusWake chan struct{}
	// listenVLAN opens that listener (status.ListenVLAN; tests replace it).
	listenVLAN func(context.Context, netip.Addr) (net.Listener, error)
	// statusSrv serves the API, until statusCtx ends; statusWG waits for
	// its listeners (statusserver.go).
	statusSrv *status.Server
	statusCtx context.Context
	statusWG  *sync.WaitGroup
	// installFW installs the packet filter (firewall.Install; tests
	// replace it).
	installFW func(firewall.Config) error
	// syslog sends the log lines to the site's receiver; nil without one
	// (syslog.go).
	syslog *syslog.Sender
}

// Phases of a Gateway, as Status reports them.
const (
	PhaseStarting    = "starting"    // before Run
	PhaseConfiguring = "configuring" // DHCP, Metadata Service, waiting for a valid configuration
	PhaseRunning     = "running"     // the services run
	PhaseStopping    = "stopping"    // planned handover and shutdown under way
	PhaseStopped     = "stopped"
	PhaseFailed      = "failed" // a service failed; Run returned its error
)

// New returns a Gateway that does nothing until Run.
func New(o Options) *Gateway {
	o.defaults()
	log := o.Log.With("svc", "gateway")
	return &Gateway{
		o: o, log: log, started: time.Now(), phase: PhaseStarting,
		statusWake: make(chan struct{}, 1), listenVLAN: status.ListenVLAN, installFW: firewall.Install,
		boot: newTimeline(o.Uptime, log),
	}
}

// Run runs a gateway with options o until ctx ends; see Gateway.Run.
func Run(ctx context.Context, o Options) error {
	return New(o).Run(ctx)
}

// Run finds the gateway's role and runs its services until ctx ends, or
// until one of them fails. When ctx ends (SIGTERM: a power-off, a reboot,
// an operator's stop) it hands the virtual IP over to the peer before it
// stops the other services and returns nil. When a service fails it returns
// the error, so that the supervisor restarts the gateway. A Gateway runs
// once.
func (g *Gateway) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.ran {
		g.mu.Unlock()
		return errors.New("gateway: Run called twice")
	}
	g.ran, g.phase = true, PhaseConfiguring
	g.mu.Unlock()
	stopStatus := g.startStatus() // statusserver.go
	defer stopStatus()

	o := g.o
	log := g.log
	log.Info("tidegate starting", "version", o.Version, "mode", mode(o))
	g.boot.mark("gateway")

	var role *Role
	if o.ConfigFile != "" {
		var err error
		if role, err = roleFromFile(o.ConfigFile, o.Name); err != nil {
			return g.fail(err)
		}
		if err := netconf.SetAddress(role.Site.VLAN.Interface, role.VLANAddress); err != nil {
			return g.fail(err)
		}
	} else {
		if !o.Firewall || !o.Sysctls || !o.XFRMInterfaces {
			log.Warn("appliance mode without part of the network setup",
				"xfrm_interfaces", o.XFRMInterfaces, "firewall", o.Firewall, "sysctls", o.Sysctls)
		}
		if o.Firewall {
			if err := g.installFirewall(ctx, bootFirewall(o), "boot"); err != nil {
				return g.fail(err)
			}
		}
		var err error
		if role, err = appliance(ctx, o, log, g.setConfigErrors, g.boot.mark); err != nil {
			return g.fail(err)
		}
	}
	g.boot.mark("metadata")
	if fw := role.Configs(o).Firewall; fw != nil {
		if err := g.installFirewall(ctx, *fw, "full"); err != nil {
			return g.fail(err)
		}
		g.boot.mark("firewall")
	}
	g.setRole(role) // the status API moves onto the VLAN address
	stopSyslog := g.startSyslog(role)
	defer stopSyslog()
	g.serveManagement(role)
	log.Info("configured", "gateway", role.Self.Name, "site", role.Site.Site,
		"vlan", role.Site.VLAN.Interface, "addr", role.VLANAddress,
		"tunnels", len(role.Self.Tunnels), "since_boot", o.sinceBoot())

	svcs, err := newServices(o, role, log, g.installFW)
	if err != nil {
		return g.fail(err)
	}
	svcs.w.mark = g.boot.mark
	g.boot.mark("services")
	g.mu.Lock()
	g.svcs, g.phase = svcs, PhaseRunning
	g.mu.Unlock()

	err = svcs.run(ctx, func() { g.setPhase(PhaseStopping) })
	if err != nil {
		return g.fail(err)
	}
	g.setPhase(PhaseStopped)
	return nil
}

// setConfigErrors records the user data's current problems for Status.
func (g *Gateway) setConfigErrors(lines []string) {
	g.mu.Lock()
	g.configErrors = lines
	g.mu.Unlock()
}

func (g *Gateway) setPhase(p string) {
	g.mu.Lock()
	g.phase = p
	g.mu.Unlock()
}

// fail records err for Status and returns it. A cancelled configuration
// phase is a stop, not a failure.
func (g *Gateway) fail(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		g.phase = PhaseStopped
		return err
	}
	g.phase, g.err = PhaseFailed, err.Error()
	return err
}

func mode(o Options) string {
	if o.ConfigFile != "" {
		return "standalone"
	}
	return "appliance"
}

// appliance does what a Linode boot needs before the services can start.
func appliance(ctx context.Context, o Options, log *slog.Logger, report func([]string), mark func(string)) (*Role, error) {
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
	mark("dhcp")
	md := metadata.New(o.MetadataURL, metadata.WithLogger(o.Log.With("svc", "metadata")))
	// The VLAN interface name comes from the configuration, which we do not
	// have yet: eth1 is where Linode puts the second interface of a profile.
	role, err := roleFromMetadata(ctx, md, "eth1", log, report)
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
