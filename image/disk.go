package image

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// GRUB's i386-pc boot sector layout (grub/i386/pc/boot.h): boot.img reads
// core.img's first sector from the LBA at kernelSectorOffset; that sector
// (diskboot.img) ends with a block list {start uint64, len uint16,
// segment uint16} naming the rest of core.img.
const (
	grubDir            = "/usr/lib/grub/i386-pc"
	kernelSectorOffset = 0x5c
	blocklistOffset    = 0x200 - 12
	sector             = 512
	// coreImage is where core.img lives in the file system.
	coreImage = "boot/grub/i386-pc/core.img"
)

// grubModules are built into core.img, so GRUB needs no module files on the
// disk: read the ext4 file system on the unpartitioned disk, talk on the
// serial console Lish shows, load Linux.
var grubModules = []string{
	"biosdisk", "part_msdos", "ext2", "normal", "configfile", "linux",
	"serial", "terminal", "echo", "test", "search", "gzio", "boot",
}

// DiskOptions describe the disk image.
type DiskOptions struct {
	Output  string // raw image
	TempDir string
	Kernel  string // vmlinuz
	Initrd  string // compressed initramfs
	Version string
}

// KernelCmdline is the kernel command line: ttyS0 at 19200 8N1 is Lish;
// the last console= becomes /dev/console, where PID 1 logs.
const KernelCmdline = "console=tty0 console=ttyS0,19200n8 quiet panic=10"

func grubCfg(version string) string {
	return `# tidegate ` + version + `: read by GRUB from this disk in Linode's
# "Direct Disk" mode and by Linode's own GRUB in its "GRUB 2" mode.
serial --unit=0 --speed=19200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
set timeout=1
set default=0
menuentry "tidegate ` + version + `" {
	linux /boot/vmlinuz ` + KernelCmdline + `
	initrd /boot/initrd.img
}
`
}

// BuildDisk writes the raw disk image: an unpartitioned ext4 file system
// with GRUB's boot sector in its first (unused) sector.
func BuildDisk(o DiskOptions) error {
	root := filepath.Join(o.TempDir, "diskroot")
	os.RemoveAll(root)
	for src, dst := range map[string]string{o.Kernel: "boot/vmlinuz", o.Initrd: "boot/initrd.img"} {
		if err := copyFile(src, filepath.Join(root, dst)); err != nil {
			return err
		}
	}
	core := filepath.Join(root, coreImage)
	if err := os.MkdirAll(filepath.Dir(core), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "boot/grub/grub.cfg"), []byte(grubCfg(o.Version)), 0o644); err != nil {
		return err
	}
	args := append([]string{"-O", "i386-pc", "-d", grubDir, "-o", core, "-p", "(hd0)/boot/grub"}, grubModules...)
	if out, err := exec.Command(tool("grub-mkimage"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("grub-mkimage: %v: %s", err, out)
	}

	size, err := dirSize(root)
	if err != nil {
		return err
	}
	// Room for ext4's metadata and journal, in whole MiB.
	mib := (size*5/4)>>20 + 24
	os.Remove(o.Output)
	mkfs := exec.Command(tool("mkfs.ext4"), "-q", "-F", "-L", "tidegate", "-b", "4096",
		"-E", "root_owner=0:0", "-d", root, o.Output, strconv.FormatInt(mib, 10)+"M")
	if out, err := mkfs.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	fi, err := os.Stat(core)
	if err != nil {
		return err
	}
	return installGRUB(o.Output, fi.Size())
}

// installGRUB writes boot.img into sector 0 of the image, pointing at
// core.img's blocks inside the file system, and fills in core.img's block
// list. The file must be contiguous, which a fresh mkfs -d gives.
func installGRUB(img string, coreSize int64) error {
	out, err := exec.Command(tool("debugfs"), "-R", "blocks /"+coreImage, img).Output()
	if err != nil {
		return fmt.Errorf("debugfs blocks %s: %v", coreImage, err)
	}
	var blocks []int64
	for _, f := range strings.Fields(string(out)) {
		b, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return fmt.Errorf("debugfs: unexpected output %q", out)
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return fmt.Errorf("debugfs: %s has no blocks", coreImage)
	}
	for i := 1; i < len(blocks); i++ {
		if blocks[i] != blocks[0]+int64(i) {
			return fmt.Errorf("%s is fragmented (block %d after %d): boot.img needs it contiguous", coreImage, blocks[i], blocks[i-1])
		}
	}
	const blockSize = 4096
	first := blocks[0] * blockSize / sector
	sectors := (coreSize + sector - 1) / sector

	boot, err := os.ReadFile(filepath.Join(grubDir, "boot.img"))
	if err != nil {
		return err
	}
	if len(boot) != sector {
		return fmt.Errorf("boot.img is %d bytes, want %d", len(boot), sector)
	}
	binary.LittleEndian.PutUint64(boot[kernelSectorOffset:], uint64(first))

	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// Keep the (empty) partition table area of the existing sector: only
	// the code, the BPB gap and the signature come from boot.img.
	if _, err := f.WriteAt(boot[:0x1b8], 0); err != nil {
		return err
	}
	if _, err := f.WriteAt(boot[0x1fe:], 0x1fe); err != nil {
		return err
	}
	list := make([]byte, 12)
	if _, err := f.ReadAt(list, first*sector+blocklistOffset); err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(list[0:], uint64(first+1))
	binary.LittleEndian.PutUint16(list[8:], uint16(sectors-1))
	if _, err := f.WriteAt(list, first*sector+blocklistOffset); err != nil {
		return err
	}
	return f.Close()
}

func dirSize(root string) (int64, error) {
	var n int64
	err := filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}
