package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// linodeGRUBConfig is built into the stand-in for Linode's "GRUB 2" boot
// mode: like Linode's own GRUB it knows nothing of the image but that it
// has /boot/grub/grub.cfg, finds it on whatever disk holds it, and runs it.
const linodeGRUBConfig = `search --no-floppy --file --set=root /boot/grub/grub.cfg
set prefix=($root)/boot/grub
`

// BuildLinodeGRUB writes a small raw disk that boots GRUB from its MBR and
// then loads /boot/grub/grub.cfg from another disk: a stand-in for Linode's
// "GRUB 2" mode, which boots Linode's GRUB and reads the image's grub.cfg.
// Booted first, with the tidegate image as the second disk, it checks that
// grub.cfg works when GRUB is not the image's own.
func BuildLinodeGRUB(path string) error {
	const grubDir = "/usr/lib/grub/i386-pc"
	dir, err := os.MkdirTemp("", "linodegrub-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "embedded.cfg")
	if err := os.WriteFile(cfg, []byte(linodeGRUBConfig), 0o644); err != nil {
		return err
	}
	core := filepath.Join(dir, "core.img")
	mkimage := exec.Command("grub-mkimage", "-O", "i386-pc", "-d", grubDir, "-o", core, "-c", cfg, "-p", "/boot/grub",
		"biosdisk", "part_msdos", "ext2", "search", "search_fs_file", "normal", "configfile", "linux",
		"serial", "terminal", "echo", "test", "boot", "gzio")
	if out, err := mkimage.CombinedOutput(); err != nil {
		return fmt.Errorf("grub-mkimage: %v: %s", err, out)
	}
	boot, err := os.ReadFile(filepath.Join(grubDir, "boot.img"))
	if err != nil {
		return err
	}
	coreImg, err := os.ReadFile(core)
	if err != nil {
		return err
	}
	// The classic layout: boot.img in the MBR, core.img right after it.
	// boot.img's default kernel sector (1) and diskboot's default block
	// list (from sector 2) already describe it.
	disk := make([]byte, 1<<20)
	if len(coreImg) > len(disk)-512 {
		return fmt.Errorf("core.img is %d bytes, too big for the MBR gap", len(coreImg))
	}
	copy(disk[:0x1b8], boot[:0x1b8])
	copy(disk[0x1fe:512], boot[0x1fe:])
	copy(disk[512:], coreImg)
	return os.WriteFile(path, disk, 0o644)
}
