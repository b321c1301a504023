package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/configs"
)

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
