package bgp

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/internal/frrtest"
)

// The test site's addresses besides the topology's (speaker_test.go):
// the tunnels' outside addresses and the gateway's public one.
var (
	testEndpoints = []netip.Addr{
		netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("203.0.113.20"), // AWS's tunnel endpoints
		netip.MustParseAddr("203.0.113.99"), // our public address
	}
	testImport = ImportFilter{
		Own:       []netip.Prefix{netip.MustParsePrefix(vlan), netip.MustParsePrefix("10.0.1.200/32")},
		Endpoints: testEndpoints,
	}
)

// hostile is what a hostile (or careless) AWS announces, with why the
// filter refuses each; "" is accepted.
var hostile = map[string]Reason{
	"0.0.0.0/0":          RejectTooShort,
	"0.0.0.0/1":          RejectTooShort,
	"128.0.0.0/1":        RejectTooShort,
	"10.0.1.0/24":        RejectOwn, // the VLAN itself
	"10.0.1.0/25":        RejectOwn,
	"10.0.1.128/25":      RejectOwn,
	"10.0.1.200/32":      RejectOwn, // the virtual IP
	"203.0.113.10/32":    RejectEndpoint,
	"203.0.113.0/24":     RejectEndpoint,
	"203.0.113.99/32":    RejectEndpoint,
	"169.254.169.254/32": RejectReserved, // the Metadata Service
	"169.254.0.0/16":     RejectReserved,
	"169.0.0.0/8":        RejectReserved, // contains it
	"127.0.0.0/8":        RejectReserved,
	"240.0.0.0/8":        RejectReserved,
	"10.0.0.0/8":         "", // a summary covering the VLAN is harmless
	"172.16.0.0/12":      "",
	vpc:                  "",
}

func TestImportFilterReason(t *testing.T) {
	f := newImportFilter(testImport, []netip.Prefix{netip.MustParsePrefix(vlan)})
	for p, want := range hostile {
		if got := f.reason(netip.MustParsePrefix(p), false); got != want {
			t.Errorf("from AWS %s: %q, want %q", p, got, want)
		}
	}
	// The peer announces the pair's own prefix: expected, accepted.
	if got := f.reason(netip.MustParsePrefix(vlan), true); got != "" {
		t.Errorf("the VLAN from the iBGP peer: %q, want accepted", got)
	}
	if got := f.reason(netip.MustParsePrefix("10.0.1.0/25"), true); got != RejectOwn {
		t.Errorf("a VLAN half from the iBGP peer: %q, want %q", got, RejectOwn)
	}

	allow := ImportFilter{Accept: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("64.0.0.0/3")}}
	f = newImportFilter(allow, nil)
	for _, c := range []struct {
		p    string
		want Reason
	}{
		{"10.2.0.0/16", ""},
		{"10.0.0.0/8", ""},
		{"172.16.0.0/12", RejectNotAccepted},
		{"64.0.0.0/3", ""},               // listed, so allowed although short
		{"64.0.0.0/4", ""},               // inside it
		{"0.0.0.0/0", RejectTooShort},    // not listed
		{"10.0.0.0/7", RejectTooShort},   // contains an entry, is not inside one
		{"127.0.0.1/32", RejectReserved}, // not accepted anyway, but reserved first
	} {
		if got := f.reason(netip.MustParsePrefix(c.p), false); got != c.want {
			t.Errorf("allow list, %s: %q, want %q", c.p, got, c.want)
		}
	}
}

// announce makes FRR originate the prefixes (or withdraw them) in AS
// asn.
func announce(t *testing.T, f *frrtest.FRR, asn int, withdraw bool, prefixes ...string) {
	t.Helper()
	cmds := []string{"configure terminal", fmt.Sprintf("router bgp %d", asn), "address-family ipv4 unicast"}
	for _, p := range prefixes {
		if withdraw {
			cmds = append(cmds, "no network "+p)
		} else {
			cmds = append(cmds, "network "+p)
		}
	}
	if out, err := f.Vtysh(cmds...); err != nil {
		t.Fatalf("vtysh: %v: %s", err, out)
	}
}

// peerRow returns the named session of st.
func peerRow(st Status, name string) (PeerStatus, bool) {
	i := slices.IndexFunc(st.Peers, func(p PeerStatus) bool { return p.Name == name })
	if i < 0 {
		return PeerStatus{}, false
	}
	return st.Peers[i], true
}

// TestImportFilterWithFRR is the hostile-AWS attack on one gateway: FRR as
// AWS announces everything in hostile over both tunnels, and FRR as the
// seed's twin over iBGP. The gateway's kernel gets only
// what the filter accepts (so GoBGP's policy and reason agree), the twin
// gets none of the rest from us, and Status counts each refusal by reason
// on every session.
func TestImportFilterWithFRR(t *testing.T) {
	tp := newTopo(t)
	spec := gwSpec()
	spec.Import = testImport
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	tp.routeVia(t, vpc, "169.254.10.1@t1", 10*time.Second)

	prefixes := slices.Sorted(maps.Keys(hostile))
	announce(t, tp.awsFRR, 64512, false, prefixes...)
	// The twin originates them too rather than relay AWS's: the seed's
	// FRR filters nothing, and AWS's /25s of the VLAN in its kernel
	// would take its own iBGP session to us into its tunnel.
	announce(t, tp.peerFRR, 65000, false, prefixes...)
	f := newImportFilter(spec.Import, spec.Advertise)
	want := func(fromIBGP bool) map[Reason]int {
		m := make(map[Reason]int)
		for _, p := range prefixes {
			if r := f.reason(netip.MustParsePrefix(p), fromIBGP); r != "" {
				m[r]++
			}
		}
		return m
	}
	frrtest.Eventually(t, 20*time.Second, "rejections counted on every session", func() error {
		st := sp.Status()
		for name, fromIBGP := range map[string]bool{"t1": false, "t2": false, "ibgp": true} {
			ps, _ := peerRow(st, name)
			if w := want(fromIBGP); !maps.Equal(ps.Rejected, w) {
				return fmt.Errorf("%s (received %d) rejected %v, want %v", name, ps.Received, ps.Rejected, w)
			}
		}
		return nil
	})
	// Accepted ones are in the kernel, over the first tunnel; none of the
	// others, by any next hop.
	for _, p := range prefixes {
		if hostile[p] == "" && p != vpc {
			tp.routeVia(t, p, "169.254.10.1@t1", 10*time.Second)
		}
	}
	for _, r := range tp.routes(tp.gw) { // protocol bgp, anybody's
		p := r.Dst
		switch {
		case p == "default":
			p = "0.0.0.0/0"
		case !strings.Contains(p, "/"):
			p += "/32"
		}
		if reason, ok := hostile[p]; ok && reason != "" {
			t.Errorf("rejected %s (%s) is in the kernel via %s", p, reason, r.via())
		}
	}
	// The twin never gets a refused route from us (it has AWS's own).
	for _, p := range []string{"0.0.0.0/0", "10.0.1.0/25", "203.0.113.0/24", "169.254.169.254/32"} {
		paths, _, err := tp.peerFRR.Paths(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := paths["10.0.1.2"]; ok {
			t.Errorf("the twin got %s from us", p)
		}
	}
	// Withdrawn, the counts go back to nothing.
	announce(t, tp.awsFRR, 64512, true, prefixes...)
	announce(t, tp.peerFRR, 65000, true, slices.DeleteFunc(prefixes, func(p string) bool { return p == vlan })...)
	frrtest.Eventually(t, 20*time.Second, "rejections cleared", func() error {
		for _, ps := range sp.Status().Peers {
			if len(ps.Rejected) > 0 {
				return fmt.Errorf("%s still rejects %v", ps.Name, ps.Rejected)
			}
		}
		return nil
	})
}

// TestMaxPrefixWithFRR floods the gateway past its limit: AWS's sessions,
// and the twin's that passes the flood on, are torn down, counted, retried
// after the back-off while the flood lasts, and up again once it is gone.
func TestMaxPrefixWithFRR(t *testing.T) {
	tp := newTopo(t)
	spec := gwSpec()
	spec.MaxPrefixes = 20
	spec.MaxPrefixBackoff = 3 * time.Second
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	tp.routeVia(t, vpc, "169.254.10.1@t1", 10*time.Second)

	var flood []string
	for i := range 30 {
		flood = append(flood, fmt.Sprintf("192.0.2.%d/32", i))
	}
	announce(t, tp.awsFRR, 64512, false, flood...)
	frrtest.Eventually(t, 20*time.Second, "every session torn down for max-prefix", func() error {
		st := sp.Status()
		for _, n := range []string{"t1", "t2", "ibgp"} {
			ps, _ := peerRow(st, n)
			if ps.MaxPrefixTeardowns == 0 || ps.State == "established" {
				return fmt.Errorf("%s: %s, %d teardowns", n, ps.State, ps.MaxPrefixTeardowns)
			}
		}
		return nil
	})
	// Nothing of the flood stays (nor, for its duration, the VPC).
	tp.routeVia(t, "192.0.2.1", "", 5*time.Second)
	tp.routeVia(t, vpc, "", 5*time.Second)
	// It is retried (and torn down again) while the flood lasts.
	frrtest.Eventually(t, 20*time.Second, "retried after the back-off", func() error {
		ps, _ := peerRow(sp.Status(), "t1")
		if ps.MaxPrefixTeardowns < 2 {
			return fmt.Errorf("t1: %d teardowns", ps.MaxPrefixTeardowns)
		}
		return nil
	})
	announce(t, tp.awsFRR, 64512, true, flood...)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	tp.routeVia(t, vpc, "169.254.10.1@t1", 10*time.Second)
	if ps, _ := peerRow(sp.Status(), "t1"); !ps.RetryAt.IsZero() {
		t.Errorf("t1 established but still waiting for a retry at %v", ps.RetryAt)
	}
}

// TestIBGPPasswordWithFRR runs iBGP with TCP-MD5 and GTSM against the
// seed's FRR configuration plus "neighbor 10.0.1.2 password" and
// "ttl-security hops 1": routes flow both ways; a wrong password does not
// come up.
func TestIBGPPasswordWithFRR(t *testing.T) {
	tp := newTopo(t)
	if _, err := tp.peerFRR.Vtysh("configure terminal", "router bgp 65000",
		"neighbor 10.0.1.2 password tidegate-ibgp-md5", "neighbor 10.0.1.2 ttl-security hops 1"); err != nil {
		t.Fatal(err)
	}
	spec := gwSpec()
	spec.IBGPPassword = "tidegate-ibgp-md5"
	spec.IBGPTTLSecurity = true
	spec.Debug = true // GoBGP's debug logs too must not show the password
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	tp.peerSeesVPCViaUs(t)
	frrtest.Eventually(t, 10*time.Second, "the peer's routes received", func() error {
		if ps, _ := peerRow(sp.Status(), "ibgp"); ps.Received == 0 {
			return fmt.Errorf("iBGP: %+v", ps)
		}
		return nil
	})
	st, err := json.Marshal(sp.Status())
	if err != nil {
		t.Fatal(err)
	}
	sp.stop()
	logs, err := os.ReadFile(sp.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logs), spec.IBGPPassword) || strings.Contains(string(st), spec.IBGPPassword) {
		t.Error("the iBGP password is in the speaker's logs or Status")
	}

	spec.IBGPPassword = "wrong-password"
	sp = startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2")
	time.Sleep(5 * time.Second) // a few connect retries both ways
	if ps, _ := peerRow(sp.Status(), "ibgp"); ps.State == "established" {
		t.Errorf("iBGP came up with a wrong password")
	}
	if st, err := tp.peerFRR.Sessions(); err != nil || st["10.0.1.2"] == "Established" {
		t.Errorf("FRR's session to us with a wrong password: %v %v", st, err)
	}
}
