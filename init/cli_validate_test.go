package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
