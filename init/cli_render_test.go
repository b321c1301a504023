package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/ipsec"
)

const (
	seed   = "../configs/examples/seed.yaml"
	seedV2 = "../configs/examples/seed-keepalived-v2.yaml"
	vpn1   = "../configs/awsimport/testdata/vpn-1.xml"
	vpn2   = "../configs/awsimport/testdata/vpn-2.xml"
)

// runCmd runs tidegate's run() dispatch with args, as main does.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd, ok := commands[args[0]]
	if !ok {
		t.Fatalf("no command %q", args[0])
	}
	code = cmd(args[1:], &o, &e)
	return code, o.String(), e.String()
}

func TestValidate(t *testing.T) {
	code, out, errOut := runCmd(t, "validate", seed)
	if code != 0 || out != "ok: site linode-to-aws, gateways vpn-gw-1 (2 tunnels), vpn-gw-2 (2 tunnels)\n" || errOut != "" {
		t.Errorf("validate seed = %d %q %q", code, out, errOut)
	}

	// Two mistakes: both are reported, one per line, with file, line and key.
	doc, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(doc), "vrid: 10", "vrid: 300", 1)
	bad = strings.Replace(bad, "psk: EXAMPLE.psk.for.vpn_2a", "psk: 0EXAMPLE.psk", 1)
	f := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(f, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "validate", f)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 1 || out != "" || len(lines) != 2 {
		t.Fatalf("validate bad = %d %q %q", code, out, errOut)
	}
	for i, want := range []string{`:\d+: vrrp\.vrid: `, `:\d+: gateways\[1\]\.tunnels\[0\]\.psk: `} {
		if !regexp.MustCompile("^" + regexp.QuoteMeta(f) + want).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want file:line: key", i, lines[i])
		}
	}
	if strings.Contains(errOut, "0EXAMPLE") {
		t.Error("validate printed a pre-shared key")
	}

	if code, _, _ := runCmd(t, "validate"); code != 2 {
		t.Errorf("validate without a file = %d, want 2", code)
	}
	if code, _, errOut := runCmd(t, "validate", filepath.Join(t.TempDir(), "missing.yaml")); code != 1 || errOut == "" {
		t.Errorf("validate missing file = %d %q", code, errOut)
	}
}

func TestImportAWS(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site.yaml")
	// Flags after the files, as an operator types them.
	code, stdout, stderr := runCmd(t, "import-aws", vpn1, vpn2, "--gateway", "vpn-gw-1", "--gateway", "vpn-gw-2",
		"--vlan-prefix", "10.0.1.0/24", "--virtual-ip", "10.0.1.200", "--asn", "65000", "--vrid", "10",
		"--vlan-address", "10.0.1.2/24", "--vlan-address", "10.0.1.3/24", "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("import-aws = %d %q %q", code, stdout, stderr)
	}
	if strings.Contains(stderr, "EXAMPLE") {
		t.Error("import-aws printed a pre-shared key")
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; it holds pre-shared keys", out, fi.Mode().Perm())
	}
	site, err := configs.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if site.Gateways[0].VLANAddress.String() != "10.0.1.2/24" || site.Gateways[1].Tunnels[1].Name != "vpn-2b" {
		t.Errorf("site = %+v", site)
	}
	if code, stdout, stderr := runCmd(t, "validate", out); code != 0 || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("validate of the import = %d %q %q", code, stdout, stderr)
	}

	// Standard output, the seed's defaults.
	code, stdout, stderr = runCmd(t, "import-aws", "--gateway", "vpn-gw-1", vpn1, "--gateway", "vpn-gw-2", vpn2)
	if code != 0 || !strings.Contains(stdout, "virtual_ip: 10.0.1.200") {
		t.Errorf("import-aws to stdout = %d %q %q", code, stdout, stderr)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{vpn1, "--gateway", "a-1"}, 2, "give two VPN connection files"},
		{[]string{vpn1, vpn2, "--gateway", "vpn-gw-1", "--gateway", "vpn-gw-2", "--vlan-prefix", "10.9.0.0/24"}, 2, "--virtual-ip is required"},
		{[]string{vpn1, vpn2, "--gateway", "vpn-gw-1", "--gateway", "vpn-gw-2", "--vrid", "0"}, 2, "--vrid"},
		{[]string{vpn1, vpn2, "--gateway", "vpn-gw-1", "--gateway", "vpn-gw-2", "--asn", "65001"}, 1, "but --asn is 65001"},
		{[]string{vpn1, seed, "--gateway", "vpn-gw-1", "--gateway", "vpn-gw-2"}, 1, seed + ": "},
	} {
		code, _, stderr := runCmd(t, append([]string{"import-aws"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("import-aws %v = %d %q, want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

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
		for _, want := range []string{
			"ipsec connection " + tun.Name + "\n",
			" remote " + tun.OutsideAddress.String() + "\n",
			" interface " + ifname + "\n",
			"neighbor " + tun.RemoteInside().String() + " remote-as 64512\n",
			"route-map to-aws-" + tun.Name + " permit 10\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("render lacks %q", want)
			}
		}
	}
	for _, want := range []string{
		"hostname vpn-gw-1\n", " authentication psk *****\n", " ip address 10.0.1.2/24\n",
		" proposals aes256gcm16-prfsha384-ecp384 aes256-sha256-modp2048\n", " ike-lifetime 8h\n", " dpd-delay 10s\n",
		"router bgp 65000\n", " neighbor 10.0.1.3 remote-as 65000\n", "  network 10.0.1.0/24\n",
		" set metric 0\n", " set metric 100\n", " track aws weight -10\n", " set as-path prepend 65000 65000\n",
		"vrrp 10\n", " version 3\n", " priority 100\n", " virtual-ip 10.0.1.200/24\n", " advertisement-interval 1s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render lacks %q:\n%s", want, out)
		}
	}

	// No vlan_address for the peer: iBGP from the VLAN, as the gateway does.
	doc, _ := os.ReadFile(seed)
	f := filepath.Join(t.TempDir(), "site.yaml")
	os.WriteFile(f, []byte(strings.Replace(string(doc), "    vlan_address: 10.0.1.3/24\n", "", 1)), 0o600)
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
			doc, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(doc)
			for i := 0; i+1 < len(tt.edits); i += 2 {
				if !strings.Contains(text, tt.edits[i]) {
					t.Fatalf("edit: %q not in %s", tt.edits[i], tt.file)
				}
				text = strings.Replace(text, tt.edits[i], tt.edits[i+1], 1)
			}
			f := filepath.Join(t.TempDir(), "site.yaml")
			if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
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
				for _, want := range []string{
					fmt.Sprintf(" neighbor %s remote-as %d\n", bc.IBGPPeer, bc.ASN),
					fmt.Sprintf("  neighbor %s next-hop-self\n", bc.IBGPPeer),
				} {
					if !strings.Contains(out, want) {
						t.Errorf("render lacks %q", want)
					}
				}
			} else if !strings.Contains(out, fmt.Sprintf(" bgp listen range %s peer-group ibgp\n", bc.IBGPRange)) ||
				!strings.Contains(out, " ! "+gateway.IBGPNote(bc.IBGPRange)+"\n") || strings.Contains(out, "! warning") {
				t.Errorf("render without the peer's address: no listen range, or a warning:\n%s", out)
			}
			v := block(out, fmt.Sprintf("vrrp %d", vc.VRID))
			for _, want := range []string{
				fmt.Sprintf("\n priority %d\n", vc.Priority),
				fmt.Sprintf("\n track %s weight %d\n", gateway.TrackAWS, cfg.AWSTrackWeight),
				fmt.Sprintf("\n version %d\n", vc.Version),
			} {
				if !strings.Contains(v, want) {
					t.Errorf("vrrp block lacks %q:\n%s", want, v)
				}
			}

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

func TestLinodeNeedsToken(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	if code, _, errOut := runCmd(t, "linode", "upload", "--region", "us-east", "x.img.gz"); code != 1 || !strings.Contains(errOut, "LINODE_TOKEN") {
		t.Errorf("linode without a token = %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "linode"); code != 2 || !strings.Contains(errOut, "rolling-reimage") {
		t.Errorf("linode usage = %d %q", code, errOut)
	}
}

func TestDispatch(t *testing.T) {
	// The operator's commands never reach the gateway's flag parsing.
	if code := run([]string{"validate"}); code != 2 {
		t.Errorf("run(validate) = %d", code)
	}
}

// TestMemoryLimit: the gateway runs under the BGP speaker's soft memory
// limit unless GOMEMLIMIT sets one.
func TestMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	if got := setMemoryLimit(func(string) string { return "" }); got != bgp.MemoryLimit || debug.SetMemoryLimit(-1) != bgp.MemoryLimit {
		t.Errorf("limit %d (runtime %d), want bgp.MemoryLimit %d", got, debug.SetMemoryLimit(-1), bgp.MemoryLimit)
	}
	debug.SetMemoryLimit(old)
	if got := setMemoryLimit(func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }); got != old {
		t.Errorf("with GOMEMLIMIT set: limit %d, want the runtime's %d left alone", got, old)
	}
}
