package seedstack

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/configs"
	seedarticle "github.com/tidegate/tidegate/configs/seed-article"
	"github.com/tidegate/tidegate/qemu/guest"
)

func loadSite(t *testing.T, name string) *configs.Site {
	t.Helper()
	s, err := configs.Load(filepath.Join("..", "..", "configs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func files(t *testing.T, c Config) map[string]string {
	t.Helper()
	fs, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	return guest.Contents(fs)
}

func TestRenderArticle(t *testing.T) {
	site := loadSite(t, "seed-keepalived-v2.yaml")
	for i, name := range []string{"vpn-gw-1", "vpn-gw-2"} {
		peer := []string{"10.0.1.3", "10.0.1.2"}[i]
		m := files(t, Config{Site: site, Gateway: name, Public: netip.MustParsePrefix("192.0.2.11/24")})
		if got, want := m["/etc/keepalived/keepalived.conf"], seedarticle.Keepalived(t, name); got != want {
			t.Errorf("%s keepalived.conf:\n%s\nwant the article's:\n%s", name, got, want)
		}
		bgpd := m["/etc/frr/bgpd.conf"]
		for _, want := range []string{
			"router bgp 65000\n",
			" neighbor " + peer + " remote-as 65000\n",
			"  neighbor " + peer + " soft-reconfiguration inbound\n",
			"  neighbor " + peer + " next-hop-self\n",
			"  network 10.0.1.0/24\n",
			" timers 10 30\n",
		} {
			if !strings.Contains(bgpd, want) {
				t.Errorf("%s bgpd.conf lacks %q:\n%s", name, want, bgpd)
			}
		}
		if strings.Contains(bgpd, "prepend") || strings.Contains(bgpd, "metric") {
			t.Errorf("%s bgpd.conf has a prepend or MED, which the seed does not:\n%s", name, bgpd)
		}
		// Each tunnel's PSK is in swanctl.conf and nowhere else.
		self, _ := site.Gateway(name)
		for _, tn := range self.Tunnels {
			for path, data := range m {
				if has := strings.Contains(data, tn.PSK.Reveal()); has != (path == "/etc/swanctl/swanctl.conf") {
					t.Errorf("%s: %s has the PSK of %s: %v", name, path, tn.Name, has)
				}
			}
			if !strings.Contains(m["/etc/seedstack/network.sh"], tn.LocalInside().String()) {
				t.Errorf("%s: network.sh lacks %s's inside address", name, tn.Name)
			}
		}
	}
}

// TestRenderVersion3 checks the sub-second variant: keepalived needs VRRP
// version 3 for it, and version 3 has no authentication.
func TestRenderVersion3(t *testing.T) {
	site := loadSite(t, "seed.yaml")
	site.VRRP.AdvertInterval = 100e6
	got := files(t, Config{Site: site, Gateway: "vpn-gw-2", Public: netip.MustParsePrefix("192.0.2.12/24")})["/etc/keepalived/keepalived.conf"]
	for _, want := range []string{"vrrp_version 3\n", "advert_int 0.1\n", "state BACKUP\n", "priority 99\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("keepalived.conf lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "authentication") {
		t.Errorf("version 3 keepalived.conf has authentication:\n%s", got)
	}
}

func TestRenderErrors(t *testing.T) {
	site := loadSite(t, "seed.yaml")
	for _, c := range []Config{
		{Site: site, Gateway: "vpn-gw-9", Public: netip.MustParsePrefix("192.0.2.12/24")},
		{Site: site, Gateway: "vpn-gw-1"},
		{Gateway: "vpn-gw-1"},
	} {
		if _, err := Render(c); err == nil {
			t.Errorf("Render(%s, %v) succeeded", c.Gateway, c.Public)
		}
	}
}

// TestInitramfs checks that what the init runs is in the initramfs.
func TestInitramfs(t *testing.T) {
	site := loadSite(t, "seed-keepalived-v2.yaml")
	path := filepath.Join(t.TempDir(), "initrd.cpio")
	kernel, err := Build(Options{}, Config{Site: site, Gateway: "vpn-gw-2", Public: netip.MustParsePrefix("192.0.2.12/24")}, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kernel); err != nil {
		t.Error(err)
	}
	have := records(t, path)
	for _, want := range []string{
		"init", "usr/sbin/seed-shutdown", "etc/seedstack/profile", "usr/sbin/keepalived",
		"usr/bin/ip", "usr/sbin/swanctl", "usr/lib/ipsec/charon", "usr/lib/frr/bgpd", "usr/bin/vtysh",
		"etc/keepalived/keepalived.conf", "etc/swanctl/swanctl.conf", "etc/frr/bgpd.conf",
	} {
		if !have[want] {
			t.Errorf("%s is not in the initramfs", want)
		}
	}
}
