package linode

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/scripts/linode/fakelinode"
)

func runCLI(t *testing.T, f *fakelinode.Server, h Health, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	env := map[string]string{"LINODE_TOKEN": f.Token(), "LINODE_URL": f.URL()}
	c := &CLI{Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }, Health: h, PollInterval: 5 * time.Millisecond}
	code := c.Run(ctx(t), args)
	return code, o.String(), e.String()
}

func TestCLI(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	path, _ := gzFile(t)

	code, out, errOut := runCLI(t, f, nil, "upload", "--region", "us-east", "--label", "tidegate-x", path)
	if code != 0 || !strings.HasPrefix(out, "private/") {
		t.Fatalf("upload = %d %q %q", code, out, errOut)
	}
	image := strings.TrimSpace(out)

	code, out, errOut = runCLI(t, f, nil, "deploy", "--site", seedPath, "--image", image, "--region", "us-east", "--type", "g6-standard-1", "--vlan", "tidegate-vlan")
	if code != 0 || out != "vpn-gw-1: deployed with "+image+"\nvpn-gw-2: deployed with "+image+"\n" {
		t.Fatalf("deploy = %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "vpn-gw-1: booting profile") {
		t.Errorf("no progress on stderr: %q", errOut)
	}

	code, out, errOut = runCLI(t, f, nil, "reimage", "--site", seedPath, "--image", image, "--name", "vpn-gw-2", "--vlan", "tidegate-vlan")
	if code != 0 || out != "vpn-gw-2: reimaged with "+image+"\n" || instance(f, "vpn-gw-2").Rebuilds != 1 || instance(f, "vpn-gw-1").Rebuilds != 0 {
		t.Errorf("reimage = %d %q %q", code, out, errOut)
	}

	// rolling-reimage with a status client.
	h := newFakeHealth(f)
	h.polls["vpn-gw-1"], h.polls["vpn-gw-2"] = 1, 1
	code, _, errOut = runCLI(t, f, h, "rolling-reimage", "--site", seedPath, "--image", image, "--vlan", "tidegate-vlan")
	if code != 0 || instance(f, "vpn-gw-1").Rebuilds != 1 || instance(f, "vpn-gw-2").Rebuilds != 2 {
		t.Errorf("rolling-reimage = %d %q", code, errOut)
	}
	// The seed site has no status.allow: the public addresses the health
	// checks default to cannot answer, and the operator is told why.
	if !strings.Contains(errOut, "no status.allow") {
		t.Errorf("rolling-reimage without status.allow or --status says nothing about it: %q", errOut)
	}

	for _, tt := range []struct {
		args []string
		h    Health
		code int
		want string
	}{
		{nil, nil, 2, "usage"},
		{[]string{"frobnicate"}, nil, 2, "unknown command"},
		{[]string{"upload", path}, nil, 2, "--region is required"},
		{[]string{"deploy", "--site", seedPath, "--image", image}, nil, 2, "--region and --type"},
		{[]string{"reimage", "--site", seedPath, "--image", image}, nil, 2, "--name"},
		{[]string{"reimage", "--site", seedPath, "--image", image, "--name", "gw-9"}, nil, 2, "vpn-gw-1 or vpn-gw-2"},
		{[]string{"deploy", "--site", seedPath, "--image", image, "--region", "us-east", "--type", "g6-standard-1"}, nil, 1, "already exists"},
		{[]string{"deploy", "--site", "missing.yaml", "--image", image, "--region", "r", "--type", "t"}, nil, 1, "missing.yaml"},
		{[]string{"reimage", "--site", seedPath, "--image", image, "--name", "vpn-gw-1", "--ipam", "bad"}, nil, 2, "NAME=VALUE"},
		{[]string{"reimage", "--site", seedPath, "--image", image, "--name", "vpn-gw-1", "--ipam", "vpn-gw-1=10.0.1.2"}, nil, 2, "--ipam vpn-gw-1"},
	} {
		code, _, errOut := runCLI(t, f, tt.h, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v = %d %q, want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}

	var e bytes.Buffer
	c := &CLI{Stdout: &e, Stderr: &e, Getenv: func(string) string { return "" }}
	if code := c.Run(ctx(t), []string{"upload", "--region", "us-east", path}); code != 1 || !strings.Contains(e.String(), "LINODE_TOKEN") {
		t.Errorf("no token = %d %q", code, e.String())
	}
}

// TestCLIConventions: -h prints the usage on stdout and exits 0, for
// `linode` and each of its commands; each command's usage marks exactly
// its required flags, and leaving one out is a usage error naming it,
// before any API call.
func TestCLIConventions(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, out, errOut := runCLI(t, f, nil, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: tidegate linode COMMAND") {
			t.Errorf("%v = %d %q %q", args, code, out, errOut)
		}
		for _, name := range order {
			if !strings.Contains(out, "\n  "+strings.TrimPrefix(commands[name].synopsis, "tidegate linode ")+"\n") {
				t.Errorf("%v: usage lacks %s's synopsis:\n%s", args, name, out)
			}
		}
	}
	required := map[string][]string{
		"upload":          {"region"},
		"deploy":          {"site", "image", "region", "type"},
		"reimage":         {"site", "image", "name"},
		"rolling-reimage": {"site", "image"},
	}
	if len(required) != len(commands) {
		t.Fatalf("commands %d, test knows %d", len(commands), len(required))
	}
	for name, req := range required {
		code, out, errOut := runCLI(t, f, nil, name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: "+commands[name].synopsis+"\n") {
			t.Errorf("%s --help = %d %q %q", name, code, out, errOut)
		}
		if got := strings.Count(out, "(required)"); got != len(req) {
			t.Errorf("%s --help marks %d flags required, want %d:\n%s", name, got, len(req), out)
		}
		for _, r := range req {
			if !strings.Contains(out, "  --"+r+" ") {
				t.Errorf("%s --help lacks --%s", name, r)
			}
			// Every other required flag given: the error names this one.
			var args []string
			for _, other := range req {
				if other != r {
					args = append(args, "--"+other, "x")
				}
			}
			code, out, errOut := runCLI(t, f, nil, append([]string{name}, args...)...)
			if code != 2 || out != "" || !strings.HasPrefix(errOut, "tidegate linode "+name+": --"+r+" is required\n") {
				t.Errorf("%s without --%s = %d %q %q", name, r, code, out, errOut)
			}
		}
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("usage errors called the API: %q", calls)
	}
}
