package awsimport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInputBounds feeds the importer documents that are too large, too
// deep or too many elements: each is refused with an error that says
// which bound and where, and the real document padded to the size limit
// still parses.
func TestInputBounds(t *testing.T) {
	doc := read(t, "vpn-1.xml")
	pad := func(n int) []byte { return append(bytes.Clone(doc), bytes.Repeat([]byte(" "), n-len(doc))...) }
	deep := func(depth int) []byte {
		return []byte("<vpn_connection id=\"vpn-1\">" + strings.Repeat("\n<ipsec_tunnel>", depth-1) + strings.Repeat("</ipsec_tunnel>", depth-1) + "</vpn_connection>")
	}
	tests := []struct {
		name string
		data []byte
		want string // in the error; "" for success
	}{
		{"at the size limit", pad(MaxInput), ""},
		{"one byte over", pad(MaxInput + 1), "larger than 1048576 bytes (1 MiB)"},
		{"8 MiB", bytes.Repeat([]byte("<a>"), 8<<20/3), "larger than 1048576 bytes"},
		{"nested 65 deep", deep(MaxDepth + 1), "line 65: vpn_connection/.../ipsec_tunnel: elements nested more than 64 deep"},
		{"nested 30000 deep, just under 1 MiB", deep(30000), "line 65: vpn_connection/.../ipsec_tunnel: elements nested more than 64 deep"},
		{"many elements", []byte("<vpn_connection>" + strings.Repeat("<x/>\n", MaxElements) + "</vpn_connection>"), "line 4096: x: more than 4096 elements"},
		{"JSON around a deep document", []byte(`{"VpnConnections":[{"CustomerGatewayConfiguration":"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(string(deep(100))) + `"}]}`), "elements nested more than 64 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c, err := ParseConnection(tt.data)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("ParseConnection: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConnection: %v, want an error saying %q", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not an *Error", err)
			}
		})
	}
}

// TestReadConnectionFile reads files through the size bound: a good file,
// one too large, and a device that never ends; the errors name the file.
func TestReadConnectionFile(t *testing.T) {
	if _, err := ReadConnectionFile(filepath.Join("testdata", "vpn-1.xml")); err != nil {
		t.Errorf("vpn-1.xml: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.xml")
	if err := os.WriteFile(big, append(read(t, "vpn-1.xml"), bytes.Repeat([]byte("\n"), MaxInput)...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{big, "/dev/zero"} {
		start := time.Now()
		_, err := ReadConnectionFile(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": larger than 1048576 bytes") {
			t.Errorf("ReadConnectionFile(%s): %v, want it too large", path, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("ReadConnectionFile(%s) took %s", path, d)
		}
	}
	if _, err := ReadConnectionFile(filepath.Join(t.TempDir(), "missing.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
