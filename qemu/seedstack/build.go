package seedstack

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tidegate/tidegate/image"
	"github.com/tidegate/tidegate/qemu/guest"
)

//go:embed rootfs
var rootfs embed.FS

// spec is what the guest is made of: iproute2, strongSwan, FRR, Keepalived.
func spec() guest.Spec {
	s := guest.Join(guest.IPRoute2(), guest.StrongSwan(), guest.FRR(), guest.Keepalived())
	s.Modules = Modules
	return s
}

// Build writes the guest's initramfs for c to initrd and returns the path
// of the pinned kernel it is for.
func Build(o Options, c Config, initrd string) (kernel string, err error) {
	conf, err := Render(c)
	if err != nil {
		return "", err
	}
	scripts, err := guest.Scripts(rootfs, "rootfs", "/etc/seedstack/profile")
	if err != nil {
		return "", err
	}
	b, err := guest.Prepare(o, spec())
	if err != nil {
		return "", fmt.Errorf("seedstack: %w", err)
	}
	defer b.Close()
	files := append(append(guest.Users(), scripts...), conf...)
	return b.Kernel, b.Initramfs(initrd, files...)
}

// BuildDisk writes a raw disk for c to path, laid out as tidegate's image
// (image.BuildDisk: GRUB in the boot sector, the kernel and the initramfs
// in an ext4 file system), so that QEMU boots both the same way.
func BuildDisk(o Options, c Config, path string) error {
	tmp, err := os.MkdirTemp("", "seedstack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initrd.cpio")
	kernel, err := Build(o, c, initrd)
	if err != nil {
		return err
	}
	err = image.BuildDisk(image.DiskOptions{
		Output: path, TempDir: tmp, Kernel: kernel, Initrd: initrd, Version: "seed stack " + c.Gateway,
	})
	if err != nil {
		return fmt.Errorf("seedstack: disk: %w", err)
	}
	return nil
}

// Options say where the pinned kernel comes from.
type Options = guest.BuildOptions
