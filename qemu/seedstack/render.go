package seedstack

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/tidegate/tidegate/qemu/guest"
)

// Modules are the kernel modules the guest loads: an IPsec guest's, as the
// AWS peer's.
var Modules = guest.IPsecModules

// keepalivedTmpl is the article's keepalived.conf; only what the site sets
// differently from the article adds lines.
var keepalivedTmpl = template.Must(template.New("keepalived.conf").Parse(`{{if eq .Version 3}}global_defs {
    vrrp_version 3
}

{{end}}vrrp_instance {{.Instance}} {
    state {{.State}}
    interface {{.Interface}}
    virtual_router_id {{.VRID}}
    priority {{.Priority}}
    advert_int {{.Advert}}
{{- if not .Preempt}}
    nopreempt
{{- else if .PreemptDelay}}
    preempt_delay {{.PreemptDelay}}
{{- end}}
{{- if .AuthPass}}
    authentication {
        auth_type PASS
        auth_pass {{.AuthPass}}
    }
{{- end}}
    virtual_ipaddress {
        {{.VIP}}
    }
}
`))

var strongswanConf = guest.StrongswanConf(`# The seed's strongSwan: charon with the swanctl/VICI interface, route
# based (XFRM interfaces carry the traffic, so no routes from charon), and
# otherwise strongSwan's defaults (retransmission 4 s * 1.8^n, 5 tries).
`, `	install_routes = no
	install_virtual_ip = no
`)

var swanctlTmpl = template.Must(template.New("swanctl.conf").Parse(`# One connection per AWS tunnel, as AWS's generic strongSwan configuration
# has them: initiator, DPD 10 s with action restart, keyingtries forever.
connections {
{{- range .Tunnels}}
	{{.Name}} {
		version = 2
		local_addrs = {{$.Public}}
		remote_addrs = {{.Remote}}
		proposals = {{.Proposals}}
		mobike = no
		dpd_delay = {{.DPD}}s
		rekey_time = {{.IKERekey}}s
		keyingtries = 0
		if_id_in = {{.IfID}}
		if_id_out = {{.IfID}}
		local {
			auth = psk
			id = {{$.Public}}
		}
		remote {
			auth = psk
			id = {{.Remote}}
		}
		children {
			{{.Name}} {
				local_ts = 0.0.0.0/0
				remote_ts = 0.0.0.0/0
				esp_proposals = {{.ESPProposals}}
				mode = tunnel
				rekey_time = {{.ChildRekey}}s
				life_time = {{.ChildLife}}s
				start_action = start
				dpd_action = restart
				close_action = restart
				if_id_in = {{.IfID}}
				if_id_out = {{.IfID}}
			}
		}
	}
{{- end}}
}
secrets {
{{- range .Tunnels}}
	ike-{{.Name}} {
		id-cgw = {{$.Public}}
		id-aws = {{.Remote}}
		secret = "{{.PSK}}"
	}
{{- end}}
}
`))

// bgpdTmpl is AWS's generic FRR configuration (neighbour per tunnel,
// timers 10 30, network statements) plus the article's iBGP.
var bgpdTmpl = template.Must(template.New("bgpd.conf").Parse(`frr defaults traditional
hostname {{.Hostname}}
log file /var/log/frr/bgpd.log informational
!
router bgp {{.ASN}}
 no bgp ebgp-requires-policy
{{- range .Tunnels}}
 neighbor {{.Neighbor}} remote-as {{.ASN}}
 neighbor {{.Neighbor}} description {{.Name}}
 neighbor {{.Neighbor}} timers 10 30
{{- end}}
 neighbor {{.Peer}} remote-as {{.ASN}}
 !
 address-family ipv4 unicast
{{- range .Networks}}
  network {{.}}
{{- end}}
  neighbor {{.Peer}} soft-reconfiguration inbound
  neighbor {{.Peer}} next-hop-self
 exit-address-family
exit
!
`))

// Interface returns the name and if_id of the XFRM interface for the i-th
// tunnel.
func Interface(i int) (name string, ifID int) { return guest.XFRMInterface(i) }

// MTU of the XFRM interfaces, AWS's documented tunnel MTU.
const MTU = guest.XFRMMTU

// rekeyMargin is AWS's generic configuration's margintime (9m): rekeying
// starts that long before the lifetime ends.
const rekeyMargin = 9 * time.Minute

// Render returns the guest's configuration files: keepalived.conf,
// strongSwan's strongswan.conf and swanctl.conf (with the PSKs), FRR's
// zebra.conf, bgpd.conf and vtysh.conf, and the network setup and module
// list the init runs.
func Render(c Config) ([]guest.File, error) {
	self, peer, index, err := c.gateways()
	if err != nil {
		return nil, err
	}
	site := c.Site

	state := "BACKUP"
	if self.Priority > peer.Priority {
		state = "MASTER"
	}
	advert := fmt.Sprintf("%g", site.VRRP.AdvertInterval.Seconds())
	ka := struct {
		Version                         int
		Instance, State, Interface, VIP string
		VRID, Priority                  uint8
		Advert, AuthPass                string
		Preempt                         bool
		PreemptDelay                    int
	}{
		Version: site.VRRP.Version, Instance: fmt.Sprintf("Instance%d", index+1), State: state,
		Interface: site.VLAN.Interface, VIP: site.VLAN.VirtualIP.String(),
		VRID: site.VRRP.VRID, Priority: self.Priority, Advert: advert,
		Preempt: site.VRRP.Preempt, PreemptDelay: int(site.VRRP.PreemptDelay.Seconds()),
	}
	if site.VRRP.Version == 2 {
		ka.AuthPass = site.VRRP.AuthPass.Reveal()
	}

	type swTunnel struct {
		Name, Remote, PSK, Proposals, ESPProposals string
		IfID, DPD, IKERekey, ChildRekey, ChildLife int
	}
	sw := struct {
		Public  string
		Tunnels []swTunnel
	}{Public: c.Public.Addr().String()}
	type neighbor struct {
		Name, Neighbor string
		ASN            uint32
	}
	bgp := struct {
		Hostname, Peer string
		ASN            uint32
		Tunnels        []neighbor
		Networks       []string
	}{Hostname: self.Name, Peer: peer.VLANAddress.Addr().String(), ASN: site.BGP.ASN}
	for _, p := range site.BGP.Advertise {
		bgp.Networks = append(bgp.Networks, p.String())
	}

	var net bytes.Buffer
	net.WriteString("# Generated by seedstack.Render: the Linode's addresses, one XFRM interface per tunnel.\n")
	fmt.Fprintf(&net, "hostname %s\n", self.Name)
	net.WriteString("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0\n")
	net.WriteString("ip link set lo up\n")
	fmt.Fprintf(&net, "ip link set eth0 up\nip addr add %s dev eth0\n", c.Public)
	if c.Router.IsValid() {
		fmt.Fprintf(&net, "ip route add default via %s dev eth0\n", c.Router)
	}
	fmt.Fprintf(&net, "ip link set %s up\nip addr add %s dev %s\n", site.VLAN.Interface, self.VLANAddress, site.VLAN.Interface)
	for i, t := range self.Tunnels {
		_, id := guest.WriteXFRMInterface(&net, i, t.Name, t.LocalInside().String())
		sw.Tunnels = append(sw.Tunnels, swTunnel{
			Name: t.Name, Remote: t.OutsideAddress.String(), PSK: t.PSK.Reveal(), IfID: id,
			Proposals: strings.Join(t.Proposals, ","), ESPProposals: strings.Join(t.ESPProposals, ","),
			DPD: seconds(t.DPDDelay), IKERekey: seconds(t.IKELifetime - rekeyMargin),
			ChildRekey: seconds(t.ChildLifetime - rekeyMargin), ChildLife: seconds(t.ChildLifetime),
		})
		bgp.Tunnels = append(bgp.Tunnels, neighbor{Name: t.Name, Neighbor: t.RemoteInside().String(), ASN: t.RemoteASN})
	}

	var keepalived, swanctl, bgpd bytes.Buffer
	for _, r := range []struct {
		t    *template.Template
		w    *bytes.Buffer
		data any
	}{{keepalivedTmpl, &keepalived, ka}, {swanctlTmpl, &swanctl, sw}, {bgpdTmpl, &bgpd, bgp}} {
		if err := r.t.Execute(r.w, r.data); err != nil {
			// The error names the template, never the data it was given.
			return nil, fmt.Errorf("seedstack: %s: rendering failed", r.t.Name())
		}
	}
	file := func(path string, mode uint32, data []byte) guest.File {
		return guest.File{Path: path, Mode: mode, Data: data}
	}
	files := []guest.File{
		file("/etc/keepalived/keepalived.conf", 0o600, keepalived.Bytes()),
		file("/etc/strongswan.conf", 0o644, []byte(strongswanConf)),
		file("/etc/swanctl/swanctl.conf", 0o600, swanctl.Bytes()),
	}
	return append(append(files, guest.FRRConfigs(self.Name, bgpd.Bytes())...),
		file("/etc/seedstack/network.sh", 0o644, net.Bytes()),
		file("/etc/seedstack/modules", 0o644, []byte(strings.Join(Modules, "\n")+"\n")),
		guest.Hosts(self.Name),
	), nil
}

func seconds(d time.Duration) int { return int(d / time.Second) }
