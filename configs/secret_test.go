package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The secrets used below; none may appear in any output.
const (
	goodPSK  = "Zq7.Very_Secret.PSK"
	authPass = "pAs5w0rd"
)

var badPSKs = []string{
	"0Secret.Starting.With.Zero", // starts with 0
	"Secret-With-Dashes",         // bad characters
	"Sec_ret",                    // too short
	strings.Repeat("LongSecret", 7),
}

func assertNoSecret(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks secret %q:\n%s", what, s, out)
		}
	}
}

// md5Pass is an iBGP TCP-MD5 password.
const md5Pass = "ibgp-md5-Secret"

func TestSecretsNeverPrinted(t *testing.T) {
	doc := edit(t, base,
		"psk: EXAMPLE.psk.1a", "psk: "+goodPSK,
		"  vrid: 10\n", "  vrid: 10\n  version: 2\n  auth_pass: "+authPass+"\n",
		"  asn: 65000\n", "  asn: 65000\n  ibgp_password: "+md5Pass+"\n",
	)
	s := mustParse(t, doc)
	if s.BGP.IBGPPassword.Reveal() != md5Pass {
		t.Fatal("Reveal does not return the iBGP password")
	}

	if s.Gateways[0].Tunnels[0].PSK.Reveal() != goodPSK || s.VRRP.AuthPass.Reveal() != authPass {
		t.Fatal("Reveal does not return the secrets")
	}
	secrets := []string{goodPSK, authPass, md5Pass}

	tu := s.Gateways[0].Tunnels[0]
	for _, v := range []any{s, *s, s.Gateways[0], tu, tu.PSK, &tu.PSK, s.VRRP, s.VRRP.AuthPass} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
			assertNoSecret(t, fmt.Sprintf("fmt %s of %T", verb, v), fmt.Sprintf(verb, v), secrets...)
		}
		assertNoSecret(t, fmt.Sprintf("Sprint of %T", v), fmt.Sprint(v), secrets...)
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		assertNoSecret(t, fmt.Sprintf("JSON of %T", v), string(j), secrets...)
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Fatalf("yaml.Marshal(%T): %v", v, err)
		}
		assertNoSecret(t, fmt.Sprintf("YAML of %T", v), string(y), secrets...)
	}
	if got := fmt.Sprint(tu.PSK); got != "*****" {
		t.Errorf("Sprint(psk) = %q, want *****", got)
	}
	if got := fmt.Sprintf("%#v|%q", tu.PSK, tu.PSK); got != `*****|"*****"` {
		t.Errorf("%%#v|%%q = %q", got)
	}
	if got := fmt.Sprint(Secret{}); got != "" {
		t.Errorf("empty secret prints %q", got)
	}

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("tunnel", "psk", tu.PSK, "tunnel", tu, "site", s)
	}
	assertNoSecret(t, "slog", logs.String(), secrets...)

	m, err := s.Masked()
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "Masked", string(m), secrets...)
	if !strings.Contains(string(m), "psk: '*****'") || !strings.Contains(string(m), "auth_pass: '*****'") ||
		!strings.Contains(string(m), "ibgp_password: '*****'") {
		t.Errorf("Masked does not show masked secrets:\n%s", m)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	for _, bad := range badPSKs {
		doc := edit(t, base,
			"psk: EXAMPLE.psk.1a", "psk: "+bad,
			"psk: EXAMPLE.psk.1b", "psk: "+goodPSK,
			"  vrid: 10\n", "  vrid: 10\n  auth_pass: "+authPass+"\n", // with v3: an error
			"site: lab", "site: Lab", // an unrelated error too
		)
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatalf("psk %q accepted", bad)
		}
		if !strings.Contains(err.Error(), "gateways[0].tunnels[0].psk") || !strings.Contains(err.Error(), "vrrp.auth_pass") {
			t.Errorf("errors do not name the secrets' paths:\n%v", err)
		}
		assertNoSecret(t, "Error()", err.Error(), bad, goodPSK, authPass)
		assertNoSecret(t, "%#v of error", fmt.Sprintf("%#v %+v", err, err), bad, goodPSK, authPass)
	}
	// Type errors on a secret do not quote it either.
	for _, doc := range []string{
		edit(t, base, "psk: EXAMPLE.psk.1a", "psk: ["+goodPSK+"]"),
		edit(t, base, "psk: EXAMPLE.psk.1a", "psk: {"+goodPSK+": x}"),
		edit(t, base, "psk: EXAMPLE.psk.1a", "psk: !secret "+goodPSK),
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatal("accepted")
		}
		assertNoSecret(t, "Error()", err.Error(), goodPSK)
	}
}

func TestSecretUnmarshalYAML(t *testing.T) {
	var v struct {
		P Secret `yaml:"p"`
	}
	if err := yaml.Unmarshal([]byte("p: "+goodPSK), &v); err != nil || v.P.Reveal() != goodPSK {
		t.Fatalf("Unmarshal = %v, %q", err, v.P.Reveal())
	}
	err := yaml.Unmarshal([]byte("p: ["+goodPSK+"]"), &v)
	if err == nil {
		t.Fatal("list accepted as a secret")
	}
	assertNoSecret(t, "UnmarshalYAML error", err.Error(), goodPSK)
}

func TestMasked(t *testing.T) {
	s := mustParse(t, base)
	m, err := s.Masked()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"version: 1\n", "site: lab\n", "interface: eth1\n", "prefix: 10.0.1.0/24\n", "virtual_ip: 10.0.1.200\n",
		"advert_interval: 1s\n", "preempt: true\n", "advertise: [10.0.1.0/24]\n",
		"vlan_address: 10.0.1.2/24\n", "inside_cidr: 169.254.80.144/30\n", "psk: '*****'\n",
		"ike_lifetime: 8h\n", "child_lifetime: 1h\n", "dpd_delay: 10s\n", "med: 100\n",
		"- aes256gcm16-prfsha384-ecp384\n",
	} {
		if !bytes.Contains(m, []byte(want)) {
			t.Errorf("Masked lacks %q:\n%s", want, m)
		}
	}
	if bytes.Contains(m, []byte("auth_pass")) {
		t.Errorf("Masked shows an unset auth_pass:\n%s", m)
	}
	// With the masked secrets put back, the rendering parses to the same
	// site: Masked shows every key the schema reads, the optional ones too.
	every := edit(t, base,
		"  asn: 65000\n", "  asn: 65000\n  accept: [10.20.0.0/16]\n  ibgp_password: EXAMPLE.psk.xx\n",
		"gateways:", "status:\n  allow: [10.0.1.0/24]\nsyslog:\n  address: 10.0.1.50\n  protocol: tcp\ngateways:")
	for _, doc := range []string{base, every} {
		s := mustParse(t, doc)
		m, err := s.Masked()
		if err != nil {
			t.Fatal(err)
		}
		back := bytes.ReplaceAll(m, []byte("'*****'"), []byte("EXAMPLE.psk.xx"))
		s2, err := Parse(back)
		if err != nil {
			t.Fatalf("Masked output does not parse back:\n%v\n%s", err, back)
		}
		if fmt.Sprintf("%+v", s2) != fmt.Sprintf("%+v", s) {
			t.Errorf("round trip differs:\n%+v\n%+v", s2, s)
		}
	}
}
