package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/ipsec"
)

func TestRender(t *testing.T) {
	code, out, errOut := runCmd(t, "render", seed, "--name", "vpn-gw-1")
	if code != 0 || errOut != "" {
		t.Fatalf("render = %d %q", code, errOut)
	}
	site, err := configs.Load(seed)
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := site.Gateway("vpn-gw-1")
	for _, tun := range gw.Tunnels {
		if strings.Contains(out, tun.PSK.Reveal()) {
			t.Errorf("render shows %s's pre-shared key", tun.Name)
		}
		ifname, _ := ipsec.InterfaceFor(tun)
		wantAll(t, "render", out,
			"ipsec connection "+tun.Name+"\n",
			" remote "+tun.OutsideAddress.String()+"\n",
			" interface "+ifname+"\n",
			"neighbor "+tun.RemoteInside().String()+" remote-as 64512\n",
			"route-map to-aws-"+tun.Name+" permit 10\n",
		)
	}
	wantAll(t, "render", out,
		"hostname vpn-gw-1\n", " authentication psk *****\n", " ip address 10.0.1.2/24\n",
		" proposals aes256gcm16-prfsha384-ecp384 aes256-sha256-modp2048\n", " ike-lifetime 8h\n", " dpd-delay 10s\n",
		"router bgp 65000\n", " neighbor 10.0.1.3 remote-as 65000\n", "  network 10.0.1.0/24\n",
		" set metric 0\n", " set metric 100\n", " track aws weight -10\n", " set as-path prepend 65000 65000\n",
		"vrrp 10\n", " version 3\n", " priority 100\n", " virtual-ip 10.0.1.200/24\n", " advertisement-interval 1s\n",
	)

	// No vlan_address for the peer: iBGP from the VLAN, as the gateway does.
	f := editedSite(t, seed, "    vlan_address: 10.0.1.3/24\n", "")
	code, out, _ = runCmd(t, "render", f, "--name", "vpn-gw-1")
	if code != 0 || !strings.Contains(out, " ! iBGP: accepted from 10.0.1.0/24, the peer's address learned from its VRRP adverts\n") ||
		!strings.Contains(out, " bgp listen range 10.0.1.0/24 peer-group ibgp\n") || !strings.Contains(out, "  neighbor ibgp next-hop-self\n") ||
		strings.Contains(out, "warning") {
		t.Errorf("render without the peer's address = %d:\n%s", code, out)
	}

	// VRRPv2's password is masked too.
	code, out, _ = runCmd(t, "render", seedV2, "--name", "vpn-gw-2")
	if code != 0 || !strings.Contains(out, " authentication pass *****\n") || strings.Contains(out, "password") ||
		!strings.Contains(out, " priority 99\n") {
		t.Errorf("render v2 = %d:\n%s", code, out)
	}

	if code, _, errOut := runCmd(t, "render", seed, "--name", "nope"); code != 1 || !strings.Contains(errOut, "vpn-gw-1") {
		t.Errorf("render of an unknown gateway = %d %q (want the known names listed)", code, errOut)
	}
	if code, _, _ := runCmd(t, "render", seed); code != 2 {
		t.Errorf("render without --name = %d", code)
	}
}

// block returns the paragraph of render's output (between "!" lines) that
// starts with head, or "".
func block(out, head string) string {
	for _, b := range strings.Split(out, "\n!\n") {
		if strings.HasPrefix(b, head+"\n") || strings.Contains(b, "\n"+head+"\n") {
			return b
		}
	}
	return ""
}

// TestRenderFollowsTheGateway: render prints the configurations the gateway
// builds its services from (gateway.Role.Configs), so each mapping rule
// shows in its output: the iBGP neighbour is the peer's vlan_address, the
// MEDs and the prepend count are the site's as they are (0 included), the
// VRRP priority is the gateway's own, the AWS track weight undercuts the
// peer. Secrets are masked.
func TestRenderFollowsTheGateway(t *testing.T) {
	tests := []struct {
		name, file, gateway string
		edits               []string // old, new pairs applied to the file
		meds                []uint32
		prepend             int
		ibgp                string // "" = from the VLAN prefix, the peer's address learned
		priority            int
		weight              int
	}{
		{name: "seed gw-1", file: seed, gateway: "vpn-gw-1", meds: []uint32{0, 100}, prepend: 2, ibgp: "10.0.1.3", priority: 100, weight: -10},
		{name: "seed gw-2", file: seed, gateway: "vpn-gw-2", meds: []uint32{0, 100}, prepend: 2, ibgp: "10.0.1.2", priority: 99, weight: -10},
		{
			name: "explicit MEDs, no prepend, higher priority", file: seed, gateway: "vpn-gw-1",
			edits: []string{
				"backup_prepend: 2", "backup_prepend: 0",
				"psk: EXAMPLE.psk.for.vpn_1a\n        remote_asn: 64512", "psk: EXAMPLE.psk.for.vpn_1a\n        remote_asn: 64512\n        med: 50",
				"psk: EXAMPLE.psk.for.vpn_1b\n        remote_asn: 64512", "psk: EXAMPLE.psk.for.vpn_1b\n        remote_asn: 64512\n        med: 7",
				"priority: 100", "priority: 150",
			},
			meds: []uint32{50, 7}, prepend: 0, ibgp: "10.0.1.3", priority: 150, weight: -52,
		},
		{
			name: "peer without vlan_address", file: seed, gateway: "vpn-gw-1",
			edits: []string{"    vlan_address: 10.0.1.3/24\n", ""},
			meds:  []uint32{0, 100}, prepend: 2, priority: 100, weight: -10,
		},
		{name: "keepalived v2", file: seedV2, gateway: "vpn-gw-2", meds: []uint32{0, 100}, prepend: 2, ibgp: "10.0.1.2", priority: 99, weight: -10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := editedSite(t, tt.file, tt.edits...)
			code, out, errOut := runCmd(t, "render", f, "--name", tt.gateway)
			if code != 0 || errOut != "" {
				t.Fatalf("render = %d %q", code, errOut)
			}

			// What the gateway itself would load.
			site, err := configs.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			role, err := gateway.NewRole(site, tt.gateway)
			if err != nil {
				t.Fatal(err)
			}
			cfg := role.Configs(gateway.ApplianceOptions(""))
			bc, vc := cfg.BGP, cfg.VRRP

			// The rules, as the test states them, hold in the gateway's
			// configuration...
			if len(bc.Tunnels) != len(tt.meds) {
				t.Fatalf("gateway: %d BGP tunnels, want %d", len(bc.Tunnels), len(tt.meds))
			}
			for i, bt := range bc.Tunnels {
				if bt.MED != tt.meds[i] {
					t.Errorf("gateway: tunnel %s MED %d, want %d", bt.Name, bt.MED, tt.meds[i])
				}
			}
			if bc.BackupPrepend != tt.prepend || int(vc.Priority) != tt.priority || cfg.AWSTrackWeight != tt.weight ||
				(tt.ibgp == "") != !bc.IBGPPeer.IsValid() || (tt.ibgp != "" && bc.IBGPPeer.String() != tt.ibgp) ||
				(tt.ibgp == "") != bc.IBGPRange.IsValid() {
				t.Errorf("gateway: prepend %d priority %d weight %d iBGP %v", bc.BackupPrepend, vc.Priority, cfg.AWSTrackWeight, bc.IBGPPeer)
			}

			// ... and render prints exactly that.
			asn := strconv.FormatUint(uint64(bc.ASN), 10)
			for _, bt := range bc.Tunnels {
				rm := block(out, "route-map to-aws-"+bt.Name+" permit 10")
				if !strings.Contains(rm, fmt.Sprintf("\n set metric %d", bt.MED)) {
					t.Errorf("route-map of %s lacks MED %d:\n%s", bt.Name, bt.MED, rm)
				}
				var prepends []string
				for _, line := range strings.Split(rm, "\n") {
					if p, ok := strings.CutPrefix(line, " set as-path prepend "); ok {
						prepends = append(prepends, p)
					}
				}
				want := []string{strings.TrimSpace(strings.Repeat(asn+" ", bc.BackupPrepend))}
				if bc.BackupPrepend == 0 {
					want = nil
				}
				if !slices.Equal(prepends, want) {
					t.Errorf("route-map of %s: prepends %q, want %q:\n%s", bt.Name, prepends, want, rm)
				}
				if !strings.Contains(out, fmt.Sprintf(" neighbor %s remote-as %d\n", bt.Remote, bt.RemoteASN)) {
					t.Errorf("render lacks the session to %s", bt.Remote)
				}
			}
			if bc.IBGPPeer.IsValid() {
				wantAll(t, "render", out,
					fmt.Sprintf(" neighbor %s remote-as %d\n", bc.IBGPPeer, bc.ASN),
					fmt.Sprintf("  neighbor %s next-hop-self\n", bc.IBGPPeer),
				)
			} else if !strings.Contains(out, fmt.Sprintf(" bgp listen range %s peer-group ibgp\n", bc.IBGPRange)) ||
				!strings.Contains(out, " ! "+gateway.IBGPNote(bc.IBGPRange)+"\n") || strings.Contains(out, "! warning") {
				t.Errorf("render without the peer's address: no listen range, or a warning:\n%s", out)
			}
			v := block(out, fmt.Sprintf("vrrp %d", vc.VRID))
			wantAll(t, "vrrp block", v,
				fmt.Sprintf("\n priority %d\n", vc.Priority),
				fmt.Sprintf("\n track %s weight %d\n", gateway.TrackAWS, cfg.AWSTrackWeight),
				fmt.Sprintf("\n version %d\n", vc.Version),
			)

			// Secrets: the keys and the password the gateway hands to
			// charon and to VRRP never show; their place says *****.
			for _, tun := range cfg.IPsec.Tunnels {
				if strings.Contains(out, tun.PSK.Reveal()) {
					t.Errorf("render shows %s's pre-shared key", tun.Name)
				}
				if c := block(out, "ipsec connection "+tun.Name); !strings.Contains(c, "\n authentication psk *****\n") {
					t.Errorf("connection %s: no masked key:\n%s", tun.Name, c)
				}
			}
			if vc.AuthPass != "" {
				if strings.Contains(out, vc.AuthPass) || !strings.Contains(v, "\n authentication pass *****") {
					t.Errorf("VRRP password shown or not masked:\n%s", v)
				}
			} else if strings.Contains(out, "authentication pass") {
				t.Errorf("render shows a VRRP password the gateway does not use")
			}
		})
	}
}

// TestRenderActiveActive: render shows both virtual routers, each with its
// priority, and the halves each gateway announces; with ecmp, no prepend.
func TestRenderActiveActive(t *testing.T) {
	const aa = "../configs/examples/seed-active-active.yaml"
	code, out, errOut := runCmd(t, "render", aa, "--name", "vpn-gw-2")
	if code != 0 || errOut != "" {
		t.Fatalf("render = %d %q", code, errOut)
	}
	wantAll(t, "render", out,
		"vrrp 11\n interface eth1\n version 3\n priority 100\n advertisement-interval 1s\n virtual-ip 10.0.1.201/24\n",
		"vrrp 10\n interface eth1\n version 3\n priority 99\n advertisement-interval 1s\n virtual-ip 10.0.1.200/24\n",
		"  network 10.0.1.128/25 ! this gateway's half",
		"  network 10.0.1.0/25 ! vpn-gw-1's half",
		" set as-path prepend 65000 65000\n",
	)

	f := editedSite(t, aa, "  backup_prepend: 2\n", "  ecmp: true\n")
	code, out, errOut = runCmd(t, "render", f, "--name", "vpn-gw-1")
	if code != 0 || errOut != "" {
		t.Fatalf("render with ecmp = %d %q", code, errOut)
	}
	if strings.Contains(out, "as-path prepend") || strings.Contains(out, "half") || !strings.Contains(out, "never prepended") {
		t.Errorf("render with ecmp prepends or announces halves:\n%s", out)
	}
}
