package awspeer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/qemu/guest"
	"github.com/u-root/mkuimage/cpio"
)

// TestInitramfs builds the guest's initramfs from the pinned kernel and the
// host's packages and checks that what the init script runs is in it, with
// the dynamic loader where the binaries look for it.
func TestInitramfs(t *testing.T) {
	b, err := Prepare(BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "initrd.cpio")
	if err := b.Initramfs(testConfig(), path); err != nil {
		t.Fatal(err)
	}
	recs, err := guest.ReadArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]cpio.Record{}
	for _, r := range recs {
		if _, dup := have[r.Name]; dup {
			t.Errorf("%s twice in the archive", r.Name)
		}
		have[r.Name] = r
	}
	for _, want := range []string{
		"init", "usr/sbin/aws-charon-start", "usr/sbin/aws-charon-stop",
		"usr/bin/busybox", "usr/bin/sh", "usr/bin/ip", "usr/sbin/swanctl", "usr/bin/vtysh",
		"usr/lib/ipsec/charon", "usr/lib/ipsec/libcharon.so.0", "usr/lib/ipsec/plugins/libstrongswan-openssl.so",
		"usr/lib/frr/zebra", "usr/lib/frr/bgpd", "usr/lib/x86_64-linux-gnu/frr/libfrr.so.0",
		"usr/lib/x86_64-linux-gnu/libcrypto.so.3", "usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
		"usr/lib64/ld-linux-x86-64.so.2", "lib64",
		"usr/lib/modules/" + b.Release + "/modules.dep",
		"etc/swanctl/swanctl.conf", "etc/frr/bgpd.conf", "etc/awspeer/network.sh", "etc/passwd",
	} {
		if _, ok := have[want]; !ok {
			t.Errorf("%s is not in the initramfs", want)
		}
	}
	// iproute2's ip, not busybox's (which has no XFRM interfaces).
	if r, ok := have["usr/bin/ip"]; ok && r.Mode&cpio.S_IFMT == cpio.S_IFLNK {
		t.Error("usr/bin/ip is busybox's applet")
	}
	dep, ok := have["usr/lib/modules/"+b.Release+"/modules.dep"]
	if ok {
		buf := make([]byte, dep.FileSize)
		dep.ReadAt(buf, 0)
		for _, m := range []string{"xfrm_interface.ko", "esp4.ko", "drbg.ko", "dummy.ko", "virtio_net.ko"} {
			if !strings.Contains(string(buf), m) {
				t.Errorf("modules.dep lacks %s", m)
			}
		}
	}
	st, _ := os.Stat(path)
	t.Logf("initramfs: %d records, %.1f MiB", len(recs), float64(st.Size())/(1<<20))
}
