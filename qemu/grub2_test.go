package qemu

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// TestBootGRUB2Mode boots the image the way Linode's "GRUB 2" mode does: a
// GRUB that is not the image's own (BuildLinodeGRUB, booted first) finds
// /boot/grub/grub.cfg on the image's disk and runs it. The gateway must come
// up exactly as in Direct Disk mode.
func TestBootGRUB2Mode(t *testing.T) {
	netnstest.NeedRoot(t)
	chain := filepath.Join(t.TempDir(), "linode-grub.img")
	if err := BuildLinodeGRUB(chain); err != nil {
		t.Fatal(err)
	}
	site, vm := bootSiteWith(t, "vpn-gw-1", "10.0.1.2/24", seedYAML(t), Options{BootDisk: chain})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	if _, _, err := vm.WaitFor(ctx, 0, regexp.MustCompile(`msg=configured .*gateway=vpn-gw-1`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("QEMU start to \"configured\" through a foreign GRUB: %.1f s", time.Since(vm.Started).Seconds())
	if err := site.WaitPing(ctx, "10.0.1.2"); err != nil {
		t.Error(err)
	}
}
