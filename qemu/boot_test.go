package qemu

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

var bootTimeout = 120 * time.Second

// bootSite makes a namespace with DHCP and the fake Metadata Service, and a
// VM booting the real image with eth0 on "pub" and eth1 on "vlan".
func bootSite(t *testing.T, label string, ipam netip.Prefix, userData []byte) (*Site, *VM) {
	t.Helper()
	return bootSiteWith(t, label, ipam.String(), userData, Options{})
}

// bootSiteWith is bootSite with what extra sets of a disk booted before
// the image (BootDisk) and of the CPU.
func bootSiteWith(t *testing.T, label, ipamAddr string, userData []byte, extra Options) (*Site, *VM) {
	t.Helper()
	ipam := netip.MustParsePrefix(ipamAddr)
	netnstest.NeedRoot(t)
	name := fmt.Sprintf("tgqemu-%d-%s", os.Getpid(), strings.ToLower(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	site, err := NewSite(name, fakemetadata.Config{
		Instance: fakemetadata.Instance{ID: 4242, Label: label, Region: "us-east", Type: "g6-nanode-1"},
		Network: fakemetadata.Network{Interfaces: []fakemetadata.Interface{
			{Purpose: "public"},
			{Label: "vlan-tidegate", Purpose: "vlan", IPAMAddress: ipam},
		}},
		UserData: userData,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	for _, tap := range []string{"tap0:pub", "tap1:vlan"} {
		tp, br, _ := strings.Cut(tap, ":")
		if err := site.Netns.Tap(tp, br); err != nil {
			t.Fatal(err)
		}
	}
	logFile := filepath.Join(t.TempDir(), "console.log")
	vm, err := Start(Options{
		Name: label, Netns: site.Netns, Image: Image(), LogFile: logFile, BootDisk: extra.BootDisk, CPU: extra.CPU,
		NICs: []NIC{{Tap: "tap0", MAC: "52:54:00:00:01:00"}, {Tap: "tap1", MAC: "52:54:00:00:01:01"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		vm.Kill()
		if t.Failed() {
			t.Logf("console of %s:\n%s", vm.Name, vm.Console())
		}
	})
	return site, vm
}

func seedYAML(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../configs/examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBootConfiguresFromMetadata boots the image as a Linode would and checks
// from outside the VM that it took a DHCP lease, asked the Metadata Service
// for a token and the user data, answers on its VLAN address, runs charon,
// and powers off cleanly on the ACPI power button.
func TestBootConfiguresFromMetadata(t *testing.T) {
	site, vm := bootSite(t, "vpn-gw-1", netip.MustParsePrefix("10.0.1.2/24"), seedYAML(t))
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()

	_, off, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`msg=configured .*gateway=vpn-gw-1`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("QEMU start to \"configured\": %.1f s", time.Since(vm.Started).Seconds())
	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`connected to charon.*version=5\.`)); err != nil {
		t.Fatal(err)
	}
	// QEMU's -cpu max has AES-NI and AVX2, as Linode's CPUs do: ESP must
	// use them, not the kernel's generic C code.
	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`kernel crypto for ESP" .*aes-gcm=rfc4106-gcm-aesni aes-cbc=cbc-aes-aesni sha1=sha1-avx2 sha256=sha256-avx2`)); err != nil {
		t.Errorf("the console does not show the CPU's crypto drivers: %v", err)
	}
	checkCryptoSelfTests(t, vm.Console())
	if leases := site.Leases(); !strings.Contains(leases, "52:54:00:00:01:00") {
		t.Errorf("dnsmasq has no lease for eth0's MAC; leases:\n%s", leases)
	}
	for _, path := range []string{"/v1/token", "/v1/instance", "/v1/network", "/v1/user-data"} {
		if site.Metadata.Requests(path) == 0 {
			t.Errorf("the gateway never asked the Metadata Service for %s", path)
		}
	}
	if err := site.WaitPing(ctx, "10.0.1.2"); err != nil {
		t.Error(err)
	}
	// The console shell (Lish) answers show commands.
	shellOff := len(vm.Console())
	vm.Type("show vrrp")
	if _, _, err := vm.WaitFor(ctx, shellOff, regexp.MustCompile(`10\.0\.1\.200`)); err != nil {
		t.Errorf("show vrrp on the console: %v", err)
	}
	vm.Type("show config")
	if _, _, err := vm.WaitFor(ctx, shellOff, regexp.MustCompile(`psk: ["']?\*{5}`)); err != nil {
		t.Errorf("show config on the console (secrets masked): %v", err)
	}
	if strings.Contains(vm.Console(), "EXAMPLE.psk") {
		t.Error("a pre-shared key appeared on the console")
	}

	if err := vm.Powerdown(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vm.WaitFor(ctx, off, regexp.MustCompile(`shutting down".*why="power button"`)); err != nil {
		t.Fatal(err)
	}
	down, cancelDown := context.WithTimeout(ctx, 30*time.Second)
	defer cancelDown()
	if err := vm.Wait(down); err != nil {
		t.Fatalf("the VM did not power off after the power button: %v", err)
	}
}

// TestBootWithoutCryptoInstructions boots on a CPU without AES-NI,
// carry-less multiply, SSSE3 or AVX: the drivers for them refuse to load,
// PID 1 skips them without an error, the console says ESP runs on the
// kernel's generic code, and the gateway configures as usual.
func TestBootWithoutCryptoInstructions(t *testing.T) {
	_, vm := bootSiteWith(t, "vpn-gw-1", "10.0.1.2/24", seedYAML(t),
		Options{CPU: "max,aes=off,pclmulqdq=off,ssse3=off,avx=off,avx2=off"})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	for _, re := range []string{
		`kernel modules not for this CPU, skipped.* modules="\[aesni_intel ghash_clmulni_intel sha1_ssse3 sha256_ssse3 sha512_ssse3\]"`,
		`kernel crypto for ESP" .*aes-gcm=generic aes-cbc=(generic|cbc\(aes-generic\)) sha1=sha1-generic sha256=sha256-generic`,
		`msg=configured .*gateway=vpn-gw-1`,
	} {
		if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(re)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(vm.Console(), `msg="kernel modules"`) {
		t.Errorf("a module error on the console:\n%s", vm.Console())
	}
	checkCryptoSelfTests(t, vm.Console())
}

// cryptoSelfTestFailure is the kernel's line for an algorithm that failed
// the self-test it runs as the algorithm registers ("alg: drbg: Test 0
// failed for drbg_nopr_ctr_aes128"); such an algorithm is disabled. A
// module loaded before one its test needs fails it: the image has no
// modprobe to fetch the other on demand (image/modules.txt).
var cryptoSelfTestFailure = regexp.MustCompile(`alg: [^\n]*(?i:fail)[^\n]*`)

func checkCryptoSelfTests(t *testing.T, console string) {
	t.Helper()
	if lines := cryptoSelfTestFailure.FindAllString(console, -1); len(lines) > 0 {
		t.Errorf("the kernel's crypto self-tests failed at boot:\n%s", strings.Join(lines, "\n"))
	}
}

// TestBootInvalidUserData boots with user data that does not validate: the
// error must be on the console, the box stays up and reachable on the
// ipam_address, and fixing the user data configures it without a reboot.
func TestBootInvalidUserData(t *testing.T) {
	bad := strings.Replace(string(seedYAML(t)), "vrid: 10", "vrid: 300", 1)
	if bad == string(seedYAML(t)) {
		t.Fatal("seed.yaml has no \"vrid: 10\" to break")
	}
	// vpn-gw-2 without vlan_address takes the ipam_address from metadata.
	site, vm := bootSite(t, "vpn-gw-2", netip.MustParsePrefix("10.0.1.3/24"), []byte(bad))
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()

	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`CONFIGURATION ERROR`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`config: line \d+: vrrp\.vrid`)); err != nil {
		t.Fatal(err)
	}
	if err := site.WaitPing(ctx, "10.0.1.3"); err != nil {
		t.Errorf("with a broken configuration the box must stay reachable on its ipam_address: %v", err)
	}
	// The console shell (Lish) shows the same errors.
	off := len(vm.Console())
	vm.Type("show status")
	if _, _, err := vm.WaitFor(ctx, off, regexp.MustCompile(`Configuration errors in the user data \(1\)`)); err != nil {
		t.Error(err)
	}
	if strings.Contains(vm.Console(), "msg=configured") {
		t.Fatal("configured with an invalid configuration")
	}

	site.Metadata.SetUserData(seedYAML(t))
	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`msg=configured .*gateway=vpn-gw-2`)); err != nil {
		t.Fatal(err)
	}
	if err := site.WaitPing(ctx, "10.0.1.3"); err != nil {
		t.Error(err)
	}
	if strings.Contains(vm.Console(), "kernel panic") || strings.Contains(vm.Console(), "Kernel panic") {
		t.Error("kernel panic on the console")
	}
}
