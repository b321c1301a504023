package configs

import "testing"

// TestTunnelMTU: AWS's table, row by row (NAT-T disabled), and the
// smallest of several proposals.
func TestTunnelMTU(t *testing.T) {
	for _, tc := range []struct {
		esp      []string
		mtu, mss int
	}{
		{[]string{"aes256gcm16"}, 1446, 1406},
		{[]string{"aes128gcm16-ecp384"}, 1446, 1406},
		{[]string{"aes256-sha1-modp2048"}, 1438, 1398},
		{[]string{"aes128-sha256"}, 1438, 1398},
		{[]string{"aes256-sha384-modp2048"}, 1422, 1382},
		{[]string{"aes256-sha512"}, 1422, 1382},
		// The defaults: GCM first, CBC with SHA-256 as the fallback.
		{DefaultESPProposals(), 1438, 1398},
		{nil, 1438, 1398},
		// One proposal allowing SHA-1 and SHA-512: the worst of them.
		{[]string{"aes256-sha1-sha512-modp2048"}, 1422, 1382},
		{[]string{"aes256gcm16", "aes128-sha384"}, 1422, 1382},
	} {
		tu := Tunnel{ESPProposals: tc.esp}
		if got := tu.MTU(); got != tc.mtu {
			t.Errorf("%q: MTU %d, want %d", tc.esp, got, tc.mtu)
		}
		if got := tu.MSS(); got != tc.mss {
			t.Errorf("%q: MSS %d, want %d", tc.esp, got, tc.mss)
		}
	}
}
