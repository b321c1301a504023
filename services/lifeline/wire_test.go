package lifeline

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want message
		err  string
	}{
		{"beat", message{beat: true}, ""},
		{"claim eth1 192.0.2.10/24", message{claim: Claim{"eth1", netip.MustParsePrefix("192.0.2.10/24")}}, ""},
		{"claim vrrp.51 2001:db8::10/64", message{claim: Claim{"vrrp.51", netip.MustParsePrefix("2001:db8::10/64")}}, ""},
		{"beat ", message{}, "unknown message"},
		{"BEAT", message{}, "unknown message"},
		{"", message{}, "unknown message"},
		{"release eth1 192.0.2.10/24", message{}, "unknown message"},
		{"claim eth1", message{}, "want an interface and a prefix"},
		{"claim  192.0.2.10/24", message{}, "interface name \"\""},
		{"claim averyveryverylongname 192.0.2.10/24", message{}, "want 1 to 15 bytes"},
		{"claim ../eth1 192.0.2.10/24", message{}, "not allowed"},
		{"claim eth\x001 192.0.2.10/24", message{}, "not allowed"},
		{"claim eth1 192.0.2.10", message{}, "no '/'"},
		{"claim eth1 192.0.2.10/33", message{}, "out of range"},
		{"claim eth1 192.0.2.10/24 extra", message{}, "bad bits"},
		{"claim eth1 fe80::1%eth1/64", message{}, "zone"},
	} {
		got, err := parseLine(tc.line)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("parseLine(%q): %v", tc.line, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseLine(%q) = %v, want an error with %q", tc.line, err, tc.err)
		case got != tc.want:
			t.Errorf("parseLine(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestClaimLineRoundTrip(t *testing.T) {
	for _, c := range []Claim{
		{"eth1", netip.MustParsePrefix("192.0.2.10/24")},
		{"vrrp.255", netip.MustParsePrefix("10.0.0.1/32")},
		{"eth1", netip.MustParsePrefix("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128")},
		{"abcdefghijklmno", netip.MustParsePrefix("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128")},
	} {
		line, err := claimLine(c)
		if err != nil {
			t.Fatalf("claimLine(%v): %v", c, err)
		}
		if len(line) > MaxLine {
			t.Errorf("claimLine(%v) is %d bytes, over MaxLine", c, len(line))
		}
		m, err := parseLine(strings.TrimSuffix(line, "\n"))
		if err != nil || m.claim != c {
			t.Errorf("parseLine(claimLine(%v)) = %+v, %v", c, m, err)
		}
	}
	for _, c := range []Claim{
		{"", netip.MustParsePrefix("192.0.2.10/24")},
		{"eth 1", netip.MustParsePrefix("192.0.2.10/24")},
		{"eth1\n", netip.MustParsePrefix("192.0.2.10/24")},
		{"eth1", netip.Prefix{}},
	} {
		if line, err := claimLine(c); err == nil {
			t.Errorf("claimLine(%q, %v) = %q, want an error", c.Interface, c.Prefix, line)
		}
	}
}
