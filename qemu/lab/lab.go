package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/awspeer"
	"github.com/tidegate/tidegate/qemu/seedstack"
	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

// Gateway is one tidegate guest of the lab.
type Gateway struct {
	Name     string // the Linode label: vpn-gw-1, vpn-gw-2
	Public   netip.Addr
	VLAN     netip.Prefix
	MACs     [2]string // eth0, eth1
	VM       *qemu.VM
	Metadata *fakemetadata.Server
	// Seed, when set, is the seed article's stack running instead of
	// tidegate (Options.SeedStack); VM is its VM.
	Seed *qemu.SeedStack
	// seed says the gateway runs the seed's stack.
	seed bool
}

// Options describe a lab.
type Options struct {
	Image string    // [qemu.Image()]
	Log   io.Writer // progress lines; [io.Discard]
	Dir   string    // console logs go here; [a temporary directory]
	// SiteYAML is the user data both gateways get; [LabSite()].
	SiteYAML []byte
	// SeedStack names the gateways that run the seed article's Keepalived
	// + FRR + strongSwan stack (package seedstack) instead of tidegate,
	// configured from the same site YAML (which must give both gateways a
	// vlan_address, as the seed configures them by hand).
	SeedStack []string
	// Later names gateways Start does not boot; the caller boots them with
	// BootGateway (e.g. after the first one's paths are AWS's choice).
	Later []string
	// TransitGateway makes the AWS peer a transit gateway with VPN ECMP
	// support (awspeer.Config.TransitGateway); the site should set
	// bgp.ecmp.
	TransitGateway bool
}

// Lab is a running reference scenario.
type Lab struct {
	Switch   *qemu.Netns // bridges inet and vlan, DHCP, metadata
	Host     *qemu.Netns // the VLAN host
	Gateways []*Gateway
	AWS      *qemu.AWSPeer
	Site     *configs.Site
	Dir      string
	Started  time.Time

	opts    Options
	closers []func()
	mu      sync.Mutex
	shell   sync.Mutex // the AWS peer's console runs one command at a time
}

// VLAN host and the VPC host behind AWS. The VLAN host has a second
// address in the upper half of the VLAN (10.0.1.128/25), whose return
// traffic an active-active pair facing a virtual private gateway draws
// through the second gateway.
var (
	HostAddr      = netip.MustParsePrefix("10.0.1.10/24")
	HostAddrUpper = netip.MustParsePrefix("10.0.1.130/24")
	VPCHost       = awspeer.DefaultVPCHost
)

// hostAddrs are the VLAN host's two addresses, HostAddr first.
func hostAddrs() []string {
	return []string{HostAddr.Addr().String(), HostAddrUpper.Addr().String()}
}

// LabSite is the seed's site YAML (configs/examples/seed.yaml) with the
// AWS outside addresses moved onto the lab's "Internet" segment
// (192.0.2.21-24), where the AWS peer answers.
func LabSite() ([]byte, error) { return LabSiteFrom("seed.yaml") }

// LabSiteFrom is LabSite for another example of configs/examples, e.g.
// seed-keepalived-v2.yaml, whose VRRP is the article's keepalived.conf.
func LabSiteFrom(example string) ([]byte, error) {
	return qemu.ExampleSite(example,
		"203.0.113.10", "192.0.2.21", "198.51.100.10", "192.0.2.22",
		"203.0.113.20", "192.0.2.23", "198.51.100.20", "192.0.2.24")
}

func (l *Lab) logf(format string, args ...any) {
	fmt.Fprintf(l.opts.Log, "lab %6.1fs  "+format+"\n", append([]any{time.Since(l.Started).Seconds()}, args...)...)
}

// Start builds the namespaces and boots the AWS peer and both gateways. It
// returns once they are booting; WaitReady waits for the scenario to work.
func Start(o Options) (l *Lab, err error) {
	if o.Image == "" {
		o.Image = qemu.Image()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.SiteYAML == nil {
		if o.SiteYAML, err = LabSite(); err != nil {
			return nil, err
		}
	}
	site, err := configs.Parse(o.SiteYAML)
	if err != nil {
		return nil, fmt.Errorf("lab site: %w", err)
	}
	l = &Lab{Site: site, opts: o, Started: time.Now()}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.Dir = o.Dir; l.Dir == "" {
		if l.Dir, err = os.MkdirTemp("", "tglab-"); err != nil {
			return nil, err
		}
		l.closers = append(l.closers, func() { os.RemoveAll(l.Dir) })
	}
	name := fmt.Sprintf("tglab-%d", os.Getpid())
	l.logf("namespaces %s (Internet 192.0.2.0/24, VLAN 10.0.1.0/24) and %s-host", name, name)
	if l.Switch, err = qemu.NewNetns(name); err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { l.Switch.Close() })
	// The switch namespace is wiring, not a host: its TAP devices must not
	// send frames of their own (IPv6 DAD, MLD) to the guests, in
	// particular to a gateway whose port was cut from the VLAN.
	if out, err := l.Switch.Command("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sysctl in %s: %v: %s", l.Switch.Name, err, out)
	}
	if err = l.Switch.Bridge("inet", "192.0.2.1/24", qemu.MetadataAddr+"/32"); err != nil {
		return nil, err
	}
	if err = l.Switch.Bridge("vlan"); err != nil {
		return nil, err
	}
	if err = l.vlanHost(name + "-host"); err != nil {
		return nil, err
	}

	for i, gw := range site.Gateways {
		n := i + 1
		g := &Gateway{
			Name:   gw.Name,
			Public: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + n)}),
			VLAN:   gw.VLANAddress,
			MACs:   [2]string{fmt.Sprintf("52:54:00:00:%02x:00", n), fmt.Sprintf("52:54:00:00:%02x:01", n)},
		}
		if !g.VLAN.IsValid() {
			g.VLAN = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(1 + n)}), 24)
		}
		if g.seed = slices.Contains(o.SeedStack, gw.Name); g.seed {
			// Built at its first boot, for this site.
			os.Remove(l.seedDisk(g))
		}
		g.Metadata = fakemetadata.New(fakemetadata.Config{
			Instance: fakemetadata.Instance{ID: 1000 + n, Label: gw.Name, Region: "us-east", Type: "g6-standard-1"},
			Network: fakemetadata.Network{Interfaces: []fakemetadata.Interface{
				{Purpose: "public"}, {Label: "vlan-tidegate", Purpose: "vlan", IPAMAddress: g.VLAN},
			}},
			UserData: o.SiteYAML,
		})
		l.Gateways = append(l.Gateways, g)
	}
	if err = l.startDHCP(); err != nil {
		return nil, err
	}
	if err = l.startMetadata(); err != nil {
		return nil, err
	}
	if err = l.startAWS(); err != nil {
		return nil, err
	}
	for _, g := range l.Gateways {
		if slices.Contains(o.Later, g.Name) {
			continue
		}
		if err = l.BootGateway(g); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// vlanHost makes the VLAN host: a namespace on the vlan bridge whose route
// to the VPC is the virtual IP, as the seed's hosts are configured.
func (l *Lab) vlanHost(name string) error {
	host, err := qemu.NewNetns(name)
	if err != nil {
		return err
	}
	l.Host = host
	l.closers = append(l.closers, func() { host.Close() })
	if err := host.IP("link", "add", "eth0", "type", "veth", "peer", "name", "host0", "netns", l.Switch.Name); err != nil {
		return err
	}
	// Active-standby: the route to the VPC is the virtual IP, as the
	// seed's hosts are configured. Active-active: both virtual IPs, one
	// ECMP route hashed per flow (addresses and ports), as the README
	// tells a VLAN host to do.
	route := []string{"route", "add", "10.0.0.0/24", "via", l.Site.VLAN.VirtualIP.String()}
	if l.Site.ActiveActive() {
		route = []string{"route", "add", "10.0.0.0/24"}
		for _, vip := range l.Site.VLAN.VirtualIPs {
			route = append(route, "nexthop", "via", vip.String())
		}
		if out, err := host.Command("sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1").CombinedOutput(); err != nil {
			return fmt.Errorf("sysctl in %s: %v: %s", host.Name, err, out)
		}
	}
	for _, step := range [][]string{
		{"addr", "add", HostAddr.String(), "dev", "eth0"},
		{"addr", "add", HostAddrUpper.String(), "dev", "eth0"},
		{"link", "set", "eth0", "up"},
		route,
	} {
		if err := host.IP(step...); err != nil {
			return err
		}
	}
	if err := l.Switch.IP("link", "set", "host0", "master", "vlan"); err != nil {
		return err
	}
	return l.Switch.IP("link", "set", "host0", "up")
}

func (l *Lab) startDHCP() error {
	args := []string{"--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		// --no-ping: no 3 s ping of an address before offering it
		// (Linode's DHCP does not; a rebooted gateway's lease is its own).
		"--interface=inet", "--bind-interfaces", "--no-ping", "--dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,12h",
		"--dhcp-option=option:router,192.0.2.1",
		"--dhcp-leasefile=" + filepath.Join(l.Dir, "dnsmasq.leases")}
	for _, g := range l.Gateways {
		args = append(args, "--dhcp-host="+g.MACs[0]+","+g.Public.String())
	}
	cmd := l.Switch.Command("dnsmasq", args...)
	out, err := os.Create(filepath.Join(l.Dir, "dnsmasq.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := deathsig.Start(cmd); err != nil {
		return fmt.Errorf("dnsmasq: %w", err)
	}
	l.closers = append(l.closers, func() { cmd.Process.Kill(); cmd.Wait(); out.Close() })
	return nil
}

// startMetadata serves each gateway its own metadata by source address, as
// Linode's service answers each Linode.
func (l *Lab) startMetadata() error {
	ln, err := l.Switch.Listen("tcp4", qemu.MetadataAddr+":80")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		for _, g := range l.Gateways {
			if host == g.Public.String() {
				g.Metadata.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, `{"errors":[{"reason":"no Linode has this address"}]}`, http.StatusForbidden)
	})}
	go srv.Serve(ln)
	l.closers = append(l.closers, func() { srv.Close() })
	return nil
}

func (l *Lab) startAWS() error {
	cfg := awspeer.Config{TransitGateway: l.opts.TransitGateway}
	for i, gw := range l.Site.Gateways {
		for _, t := range gw.Tunnels {
			cfg.Tunnels = append(cfg.Tunnels, awspeer.Tunnel{
				Name: t.Name, OutsideAWS: t.OutsideAddress, OutsideCustomer: l.Gateways[i].Public,
				InsideCIDR: t.InsideCIDR, PSK: t.PSK.Reveal(), CustomerASN: l.Site.BGP.ASN,
			})
		}
	}
	if err := l.Switch.Tap("tapaws", "inet"); err != nil {
		return err
	}
	l.logf("booting the AWS peer (strongSwan responder, FRR AS 64512, VPC host %s), %d tunnels", VPCHost, len(cfg.Tunnels))
	peer, err := qemu.StartAWSPeer(qemu.AWSPeerOptions{
		Name: "aws", Netns: l.Switch, NIC: qemu.NIC{Tap: "tapaws", MAC: "52:54:00:00:aa:00"},
		Config: cfg, LogFile: filepath.Join(l.Dir, "aws.console"),
	})
	if err != nil {
		return err
	}
	l.AWS = peer
	l.closers = append(l.closers, peer.Kill)
	return nil
}

// BootGateway boots (or boots again, after Kill) a gateway from the lab's
// image (Options.Image), or from its seed-stack disk when it runs the
// seed's stack.
func (l *Lab) BootGateway(g *Gateway) error {
	image := l.opts.Image
	n := map[string]string{}
	for i, br := range []string{"inet", "vlan"} {
		tap := fmt.Sprintf("tap%s%d", strings.TrimPrefix(g.Name, "vpn-gw-"), i)
		n[br] = tap
		if l.Switch.IP("link", "show", tap) == nil {
			continue // a reboot: the TAP outlives the QEMU that used it
		}
		if err := l.Switch.Tap(tap, br); err != nil {
			return err
		}
	}
	nics := []qemu.NIC{{Tap: n["inet"], MAC: g.MACs[0]}, {Tap: n["vlan"], MAC: g.MACs[1]}}
	logFile := filepath.Join(l.Dir, g.Name+".console")
	var (
		vm   *qemu.VM
		seed *qemu.SeedStack
		err  error
	)
	if g.seed {
		l.logf("booting %s with the seed's stack (Keepalived + FRR + strongSwan; eth0 %s, eth1 %s)", g.Name, g.Public, g.VLAN)
		seed, err = qemu.StartSeedStack(qemu.SeedStackOptions{
			Name: g.Name, Netns: l.Switch, NICs: nics, LogFile: logFile,
			Disk: l.seedDisk(g),
			Config: seedstack.Config{
				Site: l.Site, Gateway: g.Name,
				Public: netip.PrefixFrom(g.Public, 24), Router: netip.MustParseAddr("192.0.2.1"),
			},
		})
		if seed != nil {
			vm = seed.VM
		}
	} else {
		l.logf("booting %s from %s (eth0 %s by DHCP, eth1 %s)", g.Name, filepath.Base(image), g.Public, g.VLAN)
		vm, err = qemu.Start(qemu.Options{
			Name: g.Name, Netns: l.Switch, Image: image, LogFile: logFile, NICs: nics,
		})
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	g.VM, g.Seed = vm, seed
	l.mu.Unlock()
	l.closers = append(l.closers, vm.Kill)
	return nil
}

// ShutDown shuts gateway g down as a planned reboot or a reimage does: the
// ACPI power button for tidegate (what a Linode shutdown presses), the
// seed stack's seed-shutdown (its units stopped in systemd's order); then
// it waits up to timeout for the VM to power off.
func (l *Lab) ShutDown(ctx context.Context, g *Gateway, timeout time.Duration) error {
	if g.Seed != nil {
		g.VM.Type("seed-shutdown")
	} else if err := g.VM.Powerdown(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := g.VM.Wait(ctx); err != nil {
		return fmt.Errorf("%s did not power off: %w", g.Name, err)
	}
	return nil
}

func (l *Lab) seedDisk(g *Gateway) string { return filepath.Join(l.Dir, g.Name+".seed.img") }

// Gateway returns the lab's gateway with that label.
func (l *Lab) Gateway(name string) *Gateway {
	for _, g := range l.Gateways {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// Close stops every guest and process the lab started and removes its
// namespaces, in reverse order.
func (l *Lab) Close() {
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
	l.closers = nil
}
