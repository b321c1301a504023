package guest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/mkuimage/cpio"
)

// TestInitramfs packs a guest with nothing but busybox and a few files and
// reads it back: the merged-/usr layout, busybox's applets as symlinks,
// the files with their modes, and no archive without an init.
func TestInitramfs(t *testing.T) {
	b, err := Prepare(BuildOptions{}, Spec{Programs: []string{IP}, Modules: []string{"dummy"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	if err := b.Initramfs(filepath.Join(dir, "none.cpio"), Hosts("x")); err == nil || !strings.Contains(err.Error(), "no /init") {
		t.Errorf("an initramfs without /init: err = %v", err)
	}
	path := filepath.Join(dir, "initrd.cpio")
	files := append(Users(), File{Path: "/init", Mode: 0o755, Data: []byte("#!/bin/sh\n")}, Hosts("guest-1"))
	if err := b.Initramfs(path, files...); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]cpio.Record{}
	for _, r := range recs {
		have[r.Name] = r
	}
	for name, kind := range map[string]uint64{
		"bin": cpio.S_IFLNK, "lib64": cpio.S_IFLNK, "init": cpio.S_IFREG, "etc/hosts": cpio.S_IFREG,
		"usr/bin/busybox": cpio.S_IFREG, "usr/bin/ip": cpio.S_IFREG, "usr/bin/sh": cpio.S_IFLNK,
		"usr/lib/modules/" + b.Release + "/modules.dep": cpio.S_IFREG, "dev/console": cpio.S_IFCHR,
	} {
		r, ok := have[name]
		if !ok {
			t.Errorf("%s is not in the archive", name)
			continue
		}
		if r.Mode&cpio.S_IFMT != kind {
			t.Errorf("%s: mode %o, want type %o", name, r.Mode, kind)
		}
	}
	if r := have["init"]; r.Mode&0o777 != 0o755 {
		t.Errorf("init mode %o, want 0755", r.Mode&0o777)
	}
	if r := have["etc/hosts"]; r.ReaderAt != nil {
		buf := make([]byte, r.FileSize)
		r.ReadAt(buf, 0)
		if string(buf) != "127.0.0.1 localhost guest-1\n" {
			t.Errorf("etc/hosts = %q", buf)
		}
	}
}
