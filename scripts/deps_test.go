package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDepsGoCheck runs `deps.sh --go-only` against a fake go on PATH: it
// passes with a release at least as new as go.mod's go directive and, with
// an older one or none, fails and says what to install.
func TestDepsGoCheck(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	need := string(m[1])
	// The directive names a release, not a patch pin beyond .0.
	if !regexp.MustCompile(`^\d+\.\d+\.0$`).MatchString(need) {
		t.Errorf("go.mod: go %s, want the first release of a Go version (1.N.0)", need)
	}
	minor, err := strconv.Atoi(strings.Split(need, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	at := func(m int, rest string) string { return "go1." + strconv.Itoa(m) + rest }

	for _, tt := range []struct {
		name    string
		version string // the fake go's GOVERSION; "" means no go at all
		ok      bool
	}{
		{"none", "", false},
		{"Debian 12's", "go1.19.8", false},
		{"a patch of the release before", at(minor-1, ".9"), false},
		{"the release candidate", at(minor, "rc2"), false},
		{"exactly go.mod's", "go" + need, true},
		{"a later patch", at(minor, ".8"), true},
		{"the next release candidate", at(minor+1, "rc1"), true},
		{"a later release", "go1.99.0", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			if tt.version != "" {
				fake := "#!/bin/sh\ncase \"$1\" in\nenv) echo " + tt.version + " ;;\nversion) echo go version " + tt.version + " linux/amd64 ;;\n*) exit 3 ;;\nesac\n"
				if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fake), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "deps.sh", "--go-only")
			// The fake first; the rest of PATH has no go (/usr/local/go/bin
			// is not on it).
			cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin", "GO=")
			out, err := cmd.CombinedOutput()
			if tt.ok != (err == nil) {
				t.Fatalf("deps.sh with %q: err %v, want ok %v:\n%s", tt.version, err, tt.ok, out)
			}
			if tt.ok {
				if !strings.Contains(string(out), "go.mod needs "+need+" or later") {
					t.Errorf("no confirmation:\n%s", out)
				}
				return
			}
			for _, want := range []string{
				"tidegate needs Go " + need + " or later (go.mod)",
				"v=" + need,
				"https://go.dev/dl/go$v.linux-",
				"sudo tar -C /usr/local -xzf",
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if tt.version == "" && !strings.Contains(string(out), "Go is not installed") {
				t.Errorf("does not say Go is missing:\n%s", out)
			}
		})
	}
}
