package main

// The operator's sub-commands (issue #7, "Operating tidegate"): they run on
// a workstation, never on the appliance, and need none of the services'
// processes. Each takes its arguments and writers so that tests run them
// in-process.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/configs/awsimport"
	"github.com/tidegate/tidegate/internal/english"
	"github.com/tidegate/tidegate/scripts/linode"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/status"
)

// commands are the sub-commands besides gateway and version.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"validate":   cmdValidate,
	"import-aws": cmdImportAWS,
	"render":     cmdRender,
	"linode":     cmdLinode,
	"status":     cmdStatus,
}

const cliUsage = `  tidegate validate FILE...              check site configurations as the gateway does
  tidegate import-aws VPN1.xml VPN2.xml --gateway NAME1 --gateway NAME2 [-o FILE] [options]
                                         write a site configuration from AWS's VPN connections
  tidegate render FILE --name NAME       show what gateway NAME would run (secrets masked)
  tidegate linode upload|deploy|reimage|rolling-reimage ...
                                         deploy on Linode (API token in LINODE_TOKEN)
  tidegate status [--json] ADDRESS       a running gateway's state, from its VLAN address
                                         (port 9090) or its unix socket
`

// parseInterspersed parses flags that may come after positional arguments
// (tidegate import-aws a.xml b.xml --gateway x), which flag.FlagSet alone
// stops at. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// cmdValidate runs the gateway's own validation (configs.Load) on each file
// and prints every problem on its own line.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: tidegate validate FILE...") }
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, f := range files {
		site, err := configs.Load(f)
		if err != nil {
			code = 1
			// configs.Errors prints one problem per line, each with the
			// file, line and key path.
			fmt.Fprintln(stderr, err)
			continue
		}
		gws := make([]string, len(site.Gateways))
		for i, g := range site.Gateways {
			gws[i] = fmt.Sprintf("%s (%d %s)", g.Name, len(g.Tunnels), english.Plural(len(g.Tunnels), "tunnel"))
		}
		prefix := ""
		if len(files) > 1 {
			prefix = f + ": "
		}
		fmt.Fprintf(stdout, "%sok: site %s, gateways %s\n", prefix, site.Site, strings.Join(gws, ", "))
	}
	return code
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// cmdImportAWS writes a site configuration from two VPN connections'
// customer gateway configurations.
func cmdImportAWS(args []string, stdout, stderr io.Writer) int {
	const (
		seedPrefix = "10.0.1.0/24"
		seedVIP    = "10.0.1.200"
	)
	fs := flag.NewFlagSet("import-aws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var gateways, vlanAddrs, advertise listFlag
	fs.Var(&gateways, "gateway", "the Linode `label` of the gateway whose VPN connection the matching file describes (repeat, in file order; the first is VRRP master)")
	fs.Var(&vlanAddrs, "vlan-address", "pin each gateway's VLAN `address/len` (repeat, in gateway order; default: the Metadata Service's ipam_address)")
	fs.Var(&advertise, "advertise", "a `prefix` to announce to AWS (repeat; default: the VLAN prefix)")
	site := fs.String("site", "linode-to-aws", "the site's `name`")
	vlanPrefix := fs.String("vlan-prefix", seedPrefix, "the Linode VLAN's `prefix`")
	vip := fs.String("virtual-ip", "", "the VRRP virtual `IP` the VLAN's hosts route through (default "+seedVIP+" with the default --vlan-prefix)")
	asn := fs.Uint("asn", 0, "the site's BGP `ASN`; the customer gateways' ASN must match (default: the ASN AWS reports for them)")
	vrid := fs.Uint("vrid", 10, "the VRRP virtual router `id` (1..255)")
	defaults := fs.Bool("default-proposals", false, "leave the proposals out so tidegate's stronger defaults apply, instead of the algorithms AWS's document lists")
	out := fs.String("o", "", "write the site configuration to `file` (mode 0600) instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tidegate import-aws VPN1.xml VPN2.xml --gateway NAME1 --gateway NAME2 [options]")
		fmt.Fprintln(stderr, "  Each file is one VPN connection's CustomerGatewayConfiguration (XML), or the JSON of")
		fmt.Fprintln(stderr, "  aws ec2 describe-vpn-connections --vpn-connection-ids vpn-... for one connection.")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(files) != 2 || len(gateways) != 2 {
		fmt.Fprintf(stderr, "import-aws: give two VPN connection files and two --gateway names, one per gateway of the pair (got %d and %d)\n", len(files), len(gateways))
		return 2
	}
	o := awsimport.Options{Site: *site, Gateways: gateways, Sources: files, DefaultProposals: *defaults}
	var bad []string
	if o.VLANPrefix, err = netip.ParsePrefix(*vlanPrefix); err != nil {
		bad = append(bad, fmt.Sprintf("--vlan-prefix: %v", err))
	}
	switch {
	case *vip != "":
		if o.VirtualIP, err = netip.ParseAddr(*vip); err != nil {
			bad = append(bad, fmt.Sprintf("--virtual-ip: %v", err))
		}
	case *vlanPrefix == seedPrefix:
		o.VirtualIP = netip.MustParseAddr(seedVIP)
	default:
		bad = append(bad, "--virtual-ip is required with --vlan-prefix")
	}
	for _, a := range vlanAddrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--vlan-address: %v", err))
		}
		o.VLANAddresses = append(o.VLANAddresses, p)
	}
	for _, a := range advertise {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--advertise: %v", err))
		}
		o.Advertise = append(o.Advertise, p)
	}
	if *asn > 1<<32-1 {
		bad = append(bad, "--asn: out of range")
	}
	if *vrid < 1 || *vrid > 255 {
		bad = append(bad, "--vrid: must be 1 to 255")
	}
	if len(bad) > 0 {
		fmt.Fprintln(stderr, "import-aws: "+strings.Join(bad, "\nimport-aws: "))
		return 2
	}
	o.ASN, o.VRID = uint32(*asn), uint8(*vrid)

	var conns []*awsimport.Connection
	failed := false
	for _, f := range files {
		// Read through the importer's size cap; its errors name the file.
		c, err := awsimport.ReadConnectionFile(f)
		if err == nil {
			conns = append(conns, c)
			continue
		}
		fmt.Fprintln(stderr, err)
		failed = true
	}
	if failed {
		return 1
	}
	doc, err := awsimport.Site(o, conns)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(doc)
	} else {
		err = os.WriteFile(*out, doc, 0o600)
		if err == nil {
			fmt.Fprintf(stderr, "wrote %s: site %s, gateways %s, %s (holds the pre-shared keys: keep it private)\n", *out, o.Site, gateways[0], gateways[1])
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// cmdRender prints what gateway NAME of a site would load, in the spirit of
// FRR's `show running-config`. Secrets are masked.
func cmdRender(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the gateway's `name` (its Linode label)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tidegate render FILE --name NAME")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(files) != 1 || *name == "" {
		fs.Usage()
		return 2
	}
	site, err := configs.Load(files[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := render(stdout, site, *name, files[0]); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// render prints what gateway name of site loads on the appliance, from the
// services' configurations that services/gateway builds its services from
// (gateway.Role.Configs): the mapping is never re-derived here, so render
// and the gateway cannot disagree. The FRR-like syntax is only a way to
// read them.
func render(w io.Writer, site *configs.Site, name, file string) error {
	role, err := gateway.NewRole(site, name)
	if err != nil {
		return err
	}
	peer, err := site.Peer(name)
	if err != nil {
		return err
	}
	cfg := role.Configs(gateway.ApplianceOptions(""))
	sec, bc, vc := cfg.IPsec, cfg.BGP, cfg.VRRP
	self := role.Self
	// The gateway knows its own VLAN address from the configuration or,
	// on the appliance, from its Metadata Service's ipam_address.
	addr := func(a netip.Addr, g *configs.Gateway) string {
		if a.IsValid() {
			return a.String()
		}
		return "<" + g.Name + "'s ipam_address>"
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	p("! tidegate render: gateway %s of site %s (%s)", self.Name, site.Site, file)
	p("! what the gateway loads for this configuration; secrets are shown as *****")
	for _, warning := range cfg.Warnings {
		p("! warning: %s", warning)
	}
	p("!")
	p("hostname %s", self.Name)
	p("!")
	p("interface %s", sec.Uplink)
	p(" description uplink: DHCP; its address is the customer gateway address AWS knows")
	if fw := cfg.Firewall; fw != nil {
		p(" ! firewall (nftables inet table %s, input and forward policy drop): in, IKE, NAT-T, ESP, ICMP, DHCP replies and the gateway's own connections", firewall.Table)
		if len(fw.Management) > 0 {
			p(" ! firewall: /healthz and /metrics on port %d from %s", fw.StatusPort, prefixList(fw.Management))
		}
	}
	if sec.Sysctls {
		p(" ! sysctls: IPv4 forwarding on, reverse-path filtering off")
	}
	p("!")
	p("interface %s", vc.Interface)
	if role.VLANAddress.IsValid() {
		p(" ip address %s", role.VLANAddress)
	} else {
		p(" ! ip address: the Metadata Service's ipam_address (no vlan_address configured)")
	}
	if fw := cfg.Firewall; fw != nil {
		from := "the VLAN " + fw.VLANPrefix.String() + " (the peer is learned)"
		if fw.Peer.IsValid() {
			from = fw.Peer.String()
		}
		p(" ! firewall: in, VRRP, ICMP, BGP from %s, the status API (port %d) from the VLAN", from, fw.StatusPort)
		p(" ! firewall: forwarding between this interface and the tunnels only")
	}
	p("!")
	if sec.XFRMInterfaces {
		for _, t := range sec.Tunnels {
			ifname, id := ipsec.InterfaceFor(t)
			p("interface %s", ifname)
			p(" description tunnel %s to %s", t.Name, t.OutsideAddress)
			p(" xfrm if-id %d dev %s", id, sec.Uplink)
			p(" ip address %s", t.LocalInside())
			p(" mtu %d", ipsec.MTU)
			if cfg.Firewall != nil {
				p(" ! firewall: in, BGP from %s and ICMP; TCP MSS clamped to %d both ways", t.RemoteInside(), firewall.MSS)
			}
			p("!")
		}
	}
	local := "%any (" + sec.Uplink + ")"
	if sec.LocalAddress.IsValid() {
		local = sec.LocalAddress.String()
	}
	for _, t := range sec.Tunnels {
		ifname, id := ipsec.InterfaceFor(t)
		p("ipsec connection %s", t.Name)
		p(" ike-version %d", t.IKEVersion)
		p(" local %s", local)
		p(" remote %s", t.OutsideAddress)
		p(" authentication psk %s", t.PSK) // configs.Secret prints *****
		p(" proposals %s", strings.Join(t.Proposals, " "))
		p(" esp-proposals %s", strings.Join(t.ESPProposals, " "))
		p(" ike-lifetime %s", configs.FormatDuration(t.IKELifetime))
		p(" child-lifetime %s", configs.FormatDuration(t.ChildLifetime))
		p(" dpd-delay %s", configs.FormatDuration(t.DPDDelay))
		// services/ipsec: the customer gateway initiates and never gives up
		// (AWS's default startup action is "add": AWS never initiates).
		p(" start-action start dpd-action restart close-action start keyingtries 0")
		if sec.XFRMInterfaces {
			p(" child %s 0.0.0.0/0 === 0.0.0.0/0 if-id %d interface %s", t.Name, id, ifname)
		} else {
			p(" child %s 0.0.0.0/0 === 0.0.0.0/0", t.Name)
		}
		p(" inside %s (AWS %s)", t.LocalInside(), t.RemoteInside())
		p("!")
	}

	p("router bgp %d", bc.ASN)
	p(" bgp router-id %s", addr(bc.RouterID, self))
	timers := fmt.Sprintf("timers %d %d", bgp.Keepalive/time.Second, bgp.HoldTime/time.Second)
	for _, t := range bc.Tunnels {
		asn := t.RemoteASN
		if asn == 0 {
			asn = bgp.DefaultRemoteASN
		}
		via := t.Name
		if t.Device != "" {
			via += " (" + t.Device + ")"
		}
		p(" neighbor %s remote-as %d", t.Remote, asn)
		p(" neighbor %s description AWS over %s", t.Remote, via)
		p(" neighbor %s update-source %s", t.Remote, t.Local)
		p(" neighbor %s %s", t.Remote, timers)
	}
	if bc.IBGPPeer.IsValid() {
		p(" neighbor %s remote-as %d", bc.IBGPPeer, bc.ASN)
		p(" neighbor %s description %s (iBGP over %s)", bc.IBGPPeer, peer.Name, bc.VLANDevice)
		p(" neighbor %s update-source %s", bc.IBGPPeer, addr(bc.RouterID, self))
		p(" neighbor %s %s", bc.IBGPPeer, timers)
	} else if bc.IBGPRange.IsValid() {
		// The peer's address is not known before it runs: FRR's
		// equivalent of what the speaker does is a listen range.
		p(" ! %s", gateway.IBGPNote(bc.IBGPRange))
		p(" neighbor ibgp peer-group")
		p(" neighbor ibgp remote-as %d", bc.ASN)
		p(" neighbor ibgp description %s (iBGP over %s)", peer.Name, bc.VLANDevice)
		p(" neighbor ibgp %s", timers)
		p(" bgp listen range %s peer-group ibgp", bc.IBGPRange)
	} else {
		p(" ! no iBGP: %s has no vlan_address in the configuration", peer.Name)
	}
	if bc.IBGPPassword != "" {
		p(" ! iBGP: TCP-MD5 password *****")
	}
	if bc.IBGPTTLSecurity {
		p(" ! iBGP: ttl-security hops 1 (GTSM)")
	}
	p(" ! every neighbour: maximum-prefix %d, torn down and retried after a back-off when exceeded", bc.MaxPrefixes)
	p(" ! every neighbour, in: refused: shorter than /8, 169.254/16, 0/8, 127/8, 224/4, 240/4,")
	p(" !   routes containing %s,", addrList(bc.Import.Endpoints))
	p(" !   routes equal to or inside %s", prefixList(append(append([]netip.Prefix(nil), bc.Import.Own...), bc.Advertise...)))
	if len(bc.Import.Accept) > 0 {
		p(" ! every neighbour, in: accepted only inside %s", prefixList(bc.Import.Accept))
	}
	p(" !")
	p(" address-family ipv4 unicast")
	for _, a := range bc.Advertise {
		p("  network %s", a)
	}
	for _, t := range bc.Tunnels {
		p("  neighbor %s route-map to-aws-%s out", t.Remote, t.Name)
	}
	if bc.IBGPPeer.IsValid() {
		p("  neighbor %s next-hop-self", bc.IBGPPeer)
		p("  neighbor %s soft-reconfiguration inbound", bc.IBGPPeer)
	} else if bc.IBGPRange.IsValid() {
		p("  neighbor ibgp next-hop-self")
		p("  neighbor ibgp soft-reconfiguration inbound")
	}
	p(" exit-address-family")
	p("!")
	prepend := strings.TrimSpace(strings.Repeat(strconv.FormatUint(uint64(bc.ASN), 10)+" ", bc.BackupPrepend))
	for _, t := range bc.Tunnels {
		p("route-map to-aws-%s permit 10", t.Name)
		p(" set metric %d", t.MED)
		if prepend != "" {
			p(" ! while VRRP backup:")
			p(" set as-path prepend %s", prepend)
		}
		p("!")
	}

	p("vrrp %d", vc.VRID)
	p(" interface %s", vc.Interface)
	p(" version %d", vc.Version)
	p(" priority %d", vc.Priority)
	p(" advertisement-interval %s", configs.FormatDuration(vc.AdvertInterval))
	for _, v := range vc.VirtualIPs {
		p(" virtual-ip %s", v)
	}
	if vc.Preempt {
		p(" preempt delay %s", configs.FormatDuration(vc.PreemptDelay))
	} else {
		p(" no preempt")
	}
	// The gateway's health tracking: without a path to AWS the priority
	// drops by this much, below the peer's.
	p(" track %s weight %d", gateway.TrackAWS, cfg.AWSTrackWeight)
	if vc.AuthPass != "" {
		p(" authentication pass %s", configs.NewSecret(vc.AuthPass)) // prints *****
	}
	p(" ! peer %s priority %d at %s", peer.Name, peer.Priority, addr(peer.VLANAddress.Addr(), peer))
	p("!")
	p("end")
	return nil
}

// cmdLinode runs the Linode deployment commands; Ctrl-C cancels the API
// calls in flight. rolling-reimage asks each gateway's /healthz; the status
// API listens on the VLAN address only, so the workstation must reach the
// VLAN (give --status NAME=ADDRESS).
func cmdLinode(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &linode.CLI{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Health: status.HealthClient{}}
	return c.Run(ctx, args)
}

// cmdStatus fetches a gateway's status document and prints the console
// shell's tables (show status, tunnels, bgp, vrrp, routes), or the JSON.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the status document as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tidegate status [--json] ADDRESS")
		fmt.Fprintf(stderr, "  ADDRESS is the gateway's VLAN address (port %d unless given: 10.0.1.2, 10.0.1.2:9090)\n", status.Port)
		fmt.Fprintf(stderr, "  or the path of its status socket (%s)\n", status.DefaultSocket)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	c, err := status.NewClient(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(d)
	} else {
		err = status.WriteAll(stdout, d)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// prefixList lists ps once each, in order.
func prefixList(ps []netip.Prefix) string {
	var out []string
	for _, x := range ps {
		if !slices.Contains(out, x.String()) {
			out = append(out, x.String())
		}
	}
	return strings.Join(out, ", ")
}

func addrList(as []netip.Addr) string {
	var out []string
	for _, x := range as {
		out = append(out, x.String())
	}
	if len(out) == 0 {
		return "(none known)"
	}
	return strings.Join(out, ", ") + " (tunnel endpoints; this gateway's public address from DHCP)"
}
