package image

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKernelPin(t *testing.T) {
	good := "# comment\npackage linux-image-6.1.0-56-amd64\nversion 6.1.192-2\nsha256 " + strings.Repeat("a", 64) + "\n"
	for _, tc := range []struct {
		name, text, err string
	}{
		{"good", good, ""},
		{"no sha", "package p\nversion 1\n", "needs package, version and a sha256"},
		{"unknown key", good + "colour blue\n", `unknown key "colour"`},
		{"no value", "package\n", `want "key value"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kernel.lock")
			os.WriteFile(path, []byte(tc.text), 0o644)
			pin, err := ReadKernelPin(path)
			if tc.err == "" {
				if err != nil || pin.Version != "6.1.192-2" {
					t.Fatalf("ReadKernelPin = %+v, %v", pin, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

// TestStageModules checks the dependency closure and the modules.dep format
// u-root's kmodule reads: "a.ko:" with no trailing space when a module has
// no dependencies (a trailing space reads as a dependency on the directory).
func TestStageModules(t *testing.T) {
	root := t.TempDir()
	mods := filepath.Join(root, "lib/modules/6.1.0-test")
	dep := "kernel/a.ko: kernel/b.ko kernel/c-d.ko\nkernel/b.ko:\nkernel/c-d.ko:\nkernel/unused.ko:\n"
	for _, f := range []string{"kernel/a.ko", "kernel/b.ko", "kernel/c-d.ko", "kernel/unused.ko"} {
		os.MkdirAll(filepath.Dir(filepath.Join(mods, f)), 0o755)
		os.WriteFile(filepath.Join(mods, f), []byte(f), 0o644)
	}
	os.WriteFile(filepath.Join(mods, "modules.dep"), []byte(dep), 0o644)
	os.WriteFile(filepath.Join(mods, "modules.builtin"), []byte("kernel/builtin.ko\n"), 0o644)
	k := &Kernel{Pin: KernelPin{Package: "linux-image-6.1.0-test"}, Release: "6.1.0-test", Modules: mods}

	dst := t.TempDir()
	n, err := StageModules(k, []string{"a", "builtin"}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("staged %d modules, want 3 (a and its two dependencies)", n)
	}
	if _, err := os.Stat(filepath.Join(dst, "kernel/unused.ko")); err == nil {
		t.Error("a module nobody needs was staged")
	}
	got, _ := os.ReadFile(filepath.Join(dst, "modules.dep"))
	want := "kernel/a.ko: kernel/b.ko kernel/c-d.ko\nkernel/b.ko:\nkernel/c-d.ko:\n"
	if string(got) != want {
		t.Errorf("modules.dep =\n%q\nwant\n%q", got, want)
	}
	list, _ := os.ReadFile(filepath.Join(dst, "tidegate.modules"))
	if string(list) != "a\nbuiltin\n" {
		t.Errorf("tidegate.modules = %q", list)
	}
	if _, err := StageModules(k, []string{"nonesuch"}, t.TempDir()); err == nil || !strings.Contains(err.Error(), `"nonesuch"`) {
		t.Errorf("unknown module: error %v, want one naming it", err)
	}
}

// TestBuildDiskBootSector builds a disk from dummy kernel and initrd files
// and checks what SeaBIOS and GRUB will read: the boot signature, boot.img's
// pointer to core.img's first sector inside the file system, and core.img's
// block list covering the rest of it.
func TestBuildDiskBootSector(t *testing.T) {
	for _, name := range []string{"mkfs.ext4", "debugfs", "grub-mkimage", "e2fsck"} {
		if _, err := exec.LookPath(tool(name)); err != nil {
			t.Fatalf("%s missing: run `make deps`", name)
		}
	}
	dir := t.TempDir()
	kernel, initrd := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initrd")
	os.WriteFile(kernel, bytes.Repeat([]byte("k"), 1<<20), 0o644)
	os.WriteFile(initrd, bytes.Repeat([]byte("i"), 1<<20), 0o644)
	img := filepath.Join(dir, "disk.img")
	if err := BuildDisk(DiskOptions{Output: img, TempDir: dir, Kernel: kernel, Initrd: initrd, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if disk[510] != 0x55 || disk[511] != 0xaa {
		t.Fatalf("no boot signature in sector 0: % x", disk[510:512])
	}
	if !bytes.Equal(disk[1080:1082], []byte{0x53, 0xef}) {
		t.Fatal("no ext4 superblock magic at 1080: the file system was damaged")
	}
	first := int64(binary.LittleEndian.Uint64(disk[kernelSectorOffset:]))
	core, err := os.ReadFile(filepath.Join(dir, "diskroot", coreImage))
	if err != nil {
		t.Fatal(err)
	}
	at := disk[first*sector:]
	if !bytes.Equal(at[:blocklistOffset], core[:blocklistOffset]) {
		t.Fatalf("sector %d is not core.img's first sector", first)
	}
	if !bytes.Equal(at[sector:len(core)], core[sector:]) {
		t.Fatal("core.img's other sectors do not follow its first")
	}
	start := binary.LittleEndian.Uint64(at[blocklistOffset:])
	n := binary.LittleEndian.Uint16(at[blocklistOffset+8:])
	if int64(start) != first+1 || int(n) != (len(core)+sector-1)/sector-1 {
		t.Errorf("core.img block list: start %d len %d, want %d and %d", start, n, first+1, (len(core)+sector-1)/sector-1)
	}
	if out, err := exec.Command(tool("e2fsck"), "-fn", img).CombinedOutput(); err != nil {
		t.Errorf("e2fsck finds the file system damaged: %v\n%s", err, out)
	}
}
