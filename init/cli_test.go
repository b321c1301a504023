package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const (
	seed   = "../configs/examples/seed.yaml"
	seedV2 = "../configs/examples/seed-keepalived-v2.yaml"
	vpn1   = "../configs/awsimport/testdata/vpn-1.xml"
	vpn2   = "../configs/awsimport/testdata/vpn-2.xml"
)

// editedSite writes a copy of the site file at path with edits applied,
// old and new text in pairs, each old replaced once, and returns the
// copy's path. An old text the file does not have fails the test: an
// edit that no longer applies would test the unedited file.
func editedSite(t *testing.T, path string, edits ...string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("edit: %q not in %s", edits[i], path)
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	f := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// wantAll checks that out, what a command printed, has each of wants.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}

// runCmd runs tidegate's command line with args, as main does.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestDispatch(t *testing.T) {
	// The operator's commands never reach the gateway's flag parsing.
	if code, _, errOut := runCmd(t, "validate"); code != 2 || !strings.HasPrefix(errOut, "tidegate validate: ") {
		t.Errorf("validate = %d %q", code, errOut)
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"help", "frobnicate"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "usage: tidegate COMMAND") {
			t.Errorf("%q = %d %q %q, want 2 and the usage on stderr", args, code, out, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, out, errOut := runCmd(t, arg)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "tidegate "+version) || !strings.HasSuffix(out, "\n") {
			t.Errorf("%s = %d %q %q", arg, code, out, errOut)
		}
	}
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	if _, out, _ := runCmd(t, "--version"); out != "tidegate v1.2.3\n" {
		t.Errorf("stamped --version = %q", out)
	}
}

// helpCommands are the sub-commands whose -h the tests check; linode's own
// commands are tested in scripts/linode.
var helpCommands = []string{"validate", "import-aws", "render", "linode", "status", "gateway", "shell"}

// TestHelp: -h, -help, --help and help print the usage on stdout and exit
// 0, for tidegate itself and each sub-command.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"help"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: tidegate COMMAND") {
			t.Errorf("%q = %d %q %q", args, code, out, errOut)
		}
		for _, name := range helpCommands {
			if !strings.Contains(out, "\n  "+name+" ") {
				t.Errorf("%q: usage lacks %s", args, name)
			}
		}
	}
	var named []string
	for _, c := range commands {
		if c.name != "" && c.run != nil {
			named = append(named, c.name)
		}
	}
	if !slices.Equal(named, helpCommands) {
		t.Errorf("commands %q, the test knows %q", named, helpCommands)
	}
	for _, name := range helpCommands {
		for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}} {
			code, out, errOut := runCmd(t, args...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: tidegate "+name) {
				t.Errorf("%q = %d %q %q", args, code, out, errOut)
			}
		}
	}
	// The standalone gateway's flags, and -h among them.
	if code, out, errOut := runCmd(t, "--config", seed, "-h"); code != 0 || errOut != "" || !strings.Contains(out, "  --config FILE\n") {
		t.Errorf("--config -h = %d %q %q", code, out, errOut)
	}
}

// TestRequiredFlags: the usage marks the required flags, and leaving one
// out is a usage error (2) that names it.
func TestRequiredFlags(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		help     []string // how -h shows the required flags
		required string   // the error without them
	}{
		{[]string{"render", seed}, []string{"render", "-h"}, "tidegate render: --name is required\n"},
		{[]string{"import-aws", vpn1, vpn2}, []string{"import-aws", "-h"}, "tidegate import-aws: --gateway is required\n"},
		{[]string{"--config", seed}, []string{"--config", seed, "-h"}, "tidegate: --name is required\n"},
		{[]string{"--name", "vpn-gw-1"}, []string{"--name", "x", "--help"}, "tidegate: --config is required\n"},
		{[]string{"linode", "upload", "x.img.gz"}, []string{"linode", "upload", "-h"}, "tidegate linode upload: --region is required\n"},
	} {
		code, out, errOut := runCmd(t, tt.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, tt.required) || !strings.Contains(errOut, "\nusage: ") {
			t.Errorf("%q = %d %q %q, want 2 and %q", tt.args, code, out, errOut, tt.required)
		}
		flag := strings.Fields(strings.SplitN(tt.required, ": ", 2)[1])[0]
		_, help, _ := runCmd(t, tt.help...)
		i := strings.Index(help, "\n  "+flag+" ")
		if i < 0 {
			t.Errorf("%q lists no %s:\n%s", tt.help, flag, help)
			continue
		}
		if desc, _, _ := strings.Cut(help[i+1:], "\n  -"); !strings.Contains(desc, "(required)") {
			t.Errorf("%q does not mark %s required:\n%s", tt.help, flag, desc)
		}
	}
	// Flags that are not required do not say so.
	if _, help, _ := runCmd(t, "status", "-h"); strings.Contains(help, "required") {
		t.Errorf("status -h marks something required:\n%s", help)
	}
}

// TestGatewayNeedsLinux: off Linux, the gateway commands say so instead of
// failing half-way; on Linux they get past it (and fail here on the
// missing file).
func TestGatewayNeedsLinux(t *testing.T) {
	code, _, errOut := runCmd(t, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--name", "x")
	if runtime.GOOS == "linux" {
		if strings.Contains(errOut, "Linux only") {
			t.Errorf("on Linux: %q", errOut)
		}
		return
	}
	if code != 1 || !strings.Contains(errOut, "a gateway runs on Linux only") {
		t.Errorf("on %s: %d %q", runtime.GOOS, code, errOut)
	}
}

// TestBinary runs the built command, as an operator does: the exit codes
// and streams are the process's own.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tidegate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string // prefix
	}{
		{[]string{"--version"}, 0, "tidegate "},
		{[]string{"-h"}, 0, "usage: tidegate COMMAND"},
		{[]string{"render", "--help"}, 0, "usage: tidegate render"},
		{[]string{"render", seed}, 2, ""},
		{[]string{"validate", seed}, 0, "ok: site linode-to-aws"},
	} {
		cmd := exec.Command(bin, tt.args...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if code != tt.code || !strings.HasPrefix(o.String(), tt.stdout) || (tt.stdout == "" && o.Len() > 0) {
			t.Errorf("tidegate %q = %d (%v) stdout %q stderr %q", tt.args, code, err, o.String(), e.String())
		}
	}
	_ = os.Remove(bin)
}
