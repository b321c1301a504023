package main

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

var renderCommand = command{
	name:  "render",
	args:  "FILE --name NAME",
	short: "show what gateway NAME would run (secrets masked)",
	doc: "  Prints, in FRR's syntax, what gateway NAME of the site in FILE would load:\n" +
		"  interfaces, firewall, IPsec connections, BGP, VRRP. Secrets show as *****.",
	run: cmdRender,
}

// cmdRender prints what gateway NAME of a site would load, in the spirit of
// FRR's `show running-config`. Secrets are masked.
func cmdRender(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	name := fs.String("name", "", "the gateway's `name` (its Linode label, one of the site's gateways)")
	fs.Require("name")
	fs.Positional(1, 1, "site configuration FILE")
	files, code, ok := fs.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	site, err := configs.Load(files[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	if err := render(stdout, site, *name, files[0]); err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	return cmdline.OK
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
	r := &renderer{
		w: w, role: role, peer: peer,
		cfg: role.Configs(gateway.ApplianceOptions("")),
	}
	r.p("! tidegate render: gateway %s of site %s (%s)", role.Self.Name, site.Site, file)
	r.p("! what the gateway loads for this configuration; secrets are shown as *****")
	for _, warning := range r.cfg.Warnings {
		r.p("! warning: %s", warning)
	}
	r.p("!")
	r.p("hostname %s", role.Self.Name)
	r.p("!")
	r.interfaces()
	r.ipsec()
	r.bgp()
	r.routeMaps()
	r.vrrp()
	r.p("end")
	return nil
}

// A renderer prints one gateway's configuration, a section per service.
type renderer struct {
	w    io.Writer
	role *gateway.Role
	peer *configs.Gateway
	cfg  gateway.ServiceConfigs
}

// p prints one line.
func (r *renderer) p(format string, args ...any) { fmt.Fprintf(r.w, format+"\n", args...) }

// addr is a gateway's VLAN address a, which the gateway knows from the
// configuration or, on the appliance, from its Metadata Service's
// ipam_address.
func addr(a netip.Addr, g *configs.Gateway) string {
	if a.IsValid() {
		return a.String()
	}
	return "<" + g.Name + "'s ipam_address>"
}

// interfaces prints the uplink, the VLAN interface and the tunnels' XFRM
// interfaces, with what the firewall lets through each.
func (r *renderer) interfaces() {
	sec, fw, p := r.cfg.IPsec, r.cfg.Firewall, r.p
	p("interface %s", sec.Uplink)
	p(" description uplink: DHCP; its address is the customer gateway address AWS knows")
	if fw != nil {
		p(" ! firewall (nftables inet table %s, input and forward policy drop): in, IKE, NAT-T, ESP, ICMP, DHCP replies and the gateway's own connections", firewall.Table)
		if len(fw.Management) > 0 {
			p(" ! firewall: /healthz and /metrics on port %d from %s", fw.StatusPort, prefixList(fw.Management))
		}
	}
	if sec.Sysctls {
		p(" ! sysctls: IPv4 forwarding on, reverse-path filtering off")
	}
	p("!")
	p("interface %s", r.cfg.VRRP.Interface)
	if r.role.VLANAddress.IsValid() {
		p(" ip address %s", r.role.VLANAddress)
	} else {
		p(" ! ip address: the Metadata Service's ipam_address (no vlan_address configured)")
	}
	if fw != nil {
		from := "the VLAN " + fw.VLANPrefix.String() + " (the peer is learned)"
		if fw.Peer.IsValid() {
			from = fw.Peer.String()
		}
		p(" ! firewall: in, VRRP, ICMP, BGP from %s, the status API (port %d) from the VLAN", from, fw.StatusPort)
		p(" ! firewall: forwarding between this interface and the tunnels only")
	}
	p("!")
	if !sec.XFRMInterfaces {
		return
	}
	for _, t := range sec.Tunnels {
		ifname, id := ipsec.InterfaceFor(t)
		p("interface %s", ifname)
		p(" description tunnel %s to %s", t.Name, t.OutsideAddress)
		p(" xfrm if-id %d dev %s", id, sec.Uplink)
		p(" ip address %s", t.LocalInside())
		p(" mtu %d", t.MTU())
		if fw != nil {
			p(" ! firewall: in, BGP from %s and ICMP; TCP MSS clamped to %d both ways", t.RemoteInside(), t.MSS())
		}
		p("!")
	}
}

// ipsec prints charon's connections, one per tunnel.
func (r *renderer) ipsec() {
	sec, p := r.cfg.IPsec, r.p
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
}

// bgp prints the speaker: its neighbours, the import filter and what it
// announces.
func (r *renderer) bgp() {
	bc, self, peer, p := r.cfg.BGP, r.role.Self, r.peer, r.p
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
	own, other := bc.Halves()
	for _, h := range own {
		p("  network %s ! this gateway's half (active-active), to AWS only", h)
	}
	for _, h := range other {
		p("  network %s ! %s's half (active-active), to AWS only", h, peer.Name)
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
}

// routeMaps prints what each tunnel's announcements carry toward AWS: the
// MED, and the prepend while this gateway is VRRP backup.
func (r *renderer) routeMaps() {
	bc, p := r.cfg.BGP, r.p
	_, other := bc.Halves()
	prepend := strings.TrimSpace(strings.Repeat(strconv.FormatUint(uint64(bc.ASN), 10)+" ", bc.BackupPrepend))
	for _, t := range bc.Tunnels {
		p("route-map to-aws-%s permit 10", t.Name)
		p(" set metric %d", t.MED)
		switch {
		case bc.ECMP:
			p(" ! never prepended: a transit gateway with ECMP spreads flows over equal paths")
		case prepend != "" && len(other) > 0:
			p(" ! the configured prefixes and this gateway's half, while VRRP backup of %s:", vipList(r.cfg.VRRP.VirtualIPs))
			p(" set as-path prepend %s", prepend)
			p(" ! %s's half: the same, while VRRP backup of %s", r.peer.Name, vipList(r.cfg.PeerVRRP.VirtualIPs))
		case prepend != "":
			p(" ! while VRRP backup:")
			p(" set as-path prepend %s", prepend)
		}
		p("!")
	}
}

// vrrp prints the virtual routers: this gateway's and, in active-active,
// the peer's, which it backs up.
func (r *renderer) vrrp() {
	peer, p := r.peer, r.p
	renderVRRP(p, r.cfg.VRRP, r.cfg.AWSTrackWeight)
	if pv := r.cfg.PeerVRRP; pv != nil {
		p(" ! this gateway's virtual IP; %s is the master of the next one", peer.Name)
		p("!")
		renderVRRP(p, *pv, r.cfg.AWSTrackWeight)
		p(" ! %s's virtual IP: this gateway takes it over when %s fails", peer.Name, peer.Name)
	}
	p(" ! peer %s priority %d at %s", peer.Name, peer.Priority, addr(peer.VLANAddress.Addr(), peer))
	p("!")
}

func renderVRRP(p func(string, ...any), vc vrrp.Config, trackWeight int) {
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
	p(" track %s weight %d", gateway.TrackAWS, trackWeight)
	if vc.AuthPass != "" {
		p(" authentication pass %s", configs.NewSecret(vc.AuthPass)) // prints *****
	}
	if vc.Sibling != 0 {
		p(" ! adverts for VRID %d are the other virtual router's", vc.Sibling)
	}
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

// vipList prints virtual IPs without their prefix lengths.
func vipList(ps []netip.Prefix) string {
	var out []string
	for _, x := range ps {
		out = append(out, x.Addr().String())
	}
	return strings.Join(out, " ")
}
