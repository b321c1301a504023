package guest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tidegate/tidegate/image"
	"github.com/u-root/mkuimage/cpio"
	"github.com/u-root/mkuimage/ldd"
)

// Busybox is the shell, the init's interpreter and every command the guest
// has no real program for (Debian's busybox-static).
const Busybox = "/usr/bin/busybox"

// CmdLine is a guest's kernel command line: the serial console, no kernel
// chatter, and a panic (a broken init) that ends QEMU at once (guests run
// with -no-reboot) instead of hanging the test.
const CmdLine = "console=ttyS0,115200 rdinit=/init quiet panic=-1"

// Spec says what a guest is made of.
type Spec struct {
	// Programs are host executables and dlopen'ed libraries; each comes
	// with its library closure and every symlink on the way to it.
	Programs []string
	// Files are host files nothing links against but that are needed all
	// the same (glibc dlopens libgcc_s for pthread_cancel).
	Files []string
	// Dirs are host directories copied whole (FRR's YANG modules).
	Dirs []string
	// Modules are the kernel modules staged (with their dependencies) in
	// lib/modules/<release>; the init loads them.
	Modules []string
}

// File is a file rendered for the guest.
type File struct {
	Path string // absolute, inside the guest; "/init" is the init
	Mode uint32 // permission bits
	Data []byte
}

// Contents maps each file's path to its data, for tests that look at what
// was rendered.
func Contents(files []File) map[string]string {
	m := make(map[string]string, len(files))
	for _, f := range files {
		m[f.Path] = string(f.Data)
	}
	return m
}

// BuildOptions say where the pinned kernel comes from.
type BuildOptions struct {
	// Repo is the repository root, for image/kernel.lock; [the directory
	// holding go.mod at or above the working directory].
	Repo string
	// Cache is where the kernel package is downloaded and unpacked;
	// [Repo/out/cache], shared with `make image`.
	Cache string
}

// Base is a prepared Spec: the kernel, its staged modules and the host
// files. Initramfs adds a guest's own files.
type Base struct {
	Kernel  string // vmlinuz of the pinned Debian kernel
	Release string // its uname -r

	modules string   // staged lib/modules/<release> tree
	files   []string // host paths, each with its symlink chain
	tmp     string
}

// Prepare fetches (or finds in the cache) the pinned kernel, stages the
// modules and collects the host files of s. Close removes the staging
// directory.
func Prepare(o BuildOptions, s Spec) (*Base, error) {
	if o.Repo == "" {
		var err error
		if o.Repo, err = repoRoot(); err != nil {
			return nil, err
		}
	}
	if o.Cache == "" {
		o.Cache = filepath.Join(o.Repo, "out", "cache")
	}
	pin, err := image.ReadKernelPin(filepath.Join(o.Repo, "image", "kernel.lock"))
	if err != nil {
		return nil, fmt.Errorf("guest: %w", err)
	}
	k, err := image.FetchKernel(pin, o.Cache)
	if err != nil {
		return nil, fmt.Errorf("guest: %w", err)
	}
	tmp, err := os.MkdirTemp("", "tgguest-")
	if err != nil {
		return nil, err
	}
	b := &Base{Kernel: k.VMLinuz, Release: k.Release, modules: filepath.Join(tmp, "modules"), tmp: tmp}
	if _, err := image.StageModules(k, s.Modules, b.modules); err != nil {
		b.Close()
		return nil, fmt.Errorf("guest: modules: %w", err)
	}
	if b.files, err = hostClosure(s); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Close removes the staged modules.
func (b *Base) Close() error { return os.RemoveAll(b.tmp) }

// hostClosure lists the programs, plugins and extra files with their
// libraries and every symlink on the way to each.
func hostClosure(s Spec) ([]string, error) {
	progs := append([]string{Busybox}, s.Programs...)
	for _, p := range append(progs, s.Files...) {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("guest: %w (install scripts/packages.txt: `make deps`)", err)
		}
	}
	libs, err := ldd.FList(progs...)
	if err != nil {
		return nil, fmt.Errorf("guest: ldd: %w", err)
	}
	files := append(append(progs, s.Files...), libs...)
	for _, d := range s.Dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("guest: %w", err)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Initramfs writes the guest's initramfs (an uncompressed newc cpio, which
// the kernel unpacks faster than a compressed one under TCG) to path: the
// base layout, the host files, the modules, busybox's applets and files.
// files must include "/init".
func (b *Base) Initramfs(path string, files ...File) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := cpio.NewDedupWriter(cpio.Newc.Writer(f))
	err = b.write(w, files)
	if err == nil {
		err = cpio.WriteTrailer(w)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("guest: initramfs: %w", err)
	}
	return nil
}

func (b *Base) write(w cpio.RecordWriter, files []File) error {
	// Debian's merged /usr: every file goes in under its real path, the
	// top-level directories are symlinks as on the host, so nothing is
	// unpacked through a symlink.
	recs := append(image.BaseLayout(),
		cpio.Symlink("bin", "usr/bin"),
		cpio.Symlink("sbin", "usr/sbin"),
		cpio.Symlink("lib", "usr/lib"),
		cpio.Symlink("lib64", "usr/lib64"),
		cpio.Directory("root", 0o700),
		cpio.Directory("var/log", 0o755),
		cpio.Directory("var/lib", 0o755),
		cpio.Directory("var/tmp", 0o1777),
	)
	init := false
	for _, f := range files {
		init = init || f.Path == "/init"
		recs = append(recs, cpio.StaticFile(strings.TrimPrefix(f.Path, "/"), string(f.Data), uint64(f.Mode)))
	}
	if !init {
		return fmt.Errorf("no /init among the guest's files")
	}

	rec := cpio.NewRecorder()
	seen := map[string]bool{}
	for _, p := range b.files {
		// Different host paths (/lib/... and /usr/lib/...) can be one file.
		name := canonical(p)
		if seen[name] {
			continue
		}
		seen[name] = true
		r, err := rec.GetRecord(p)
		if err != nil {
			return err
		}
		r.Name = name
		recs = append(recs, r)
	}
	modRoot := filepath.Join("usr/lib/modules", b.Release)
	err := filepath.WalkDir(b.modules, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		r, err := rec.GetRecord(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b.modules, p)
		r.Name = filepath.Join(modRoot, rel)
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return err
	}
	// Busybox's applets, except where a real program is shipped (ip).
	out, err := exec.Command(Busybox, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("busybox --list-full: %w", err)
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[cpio.Normalize(r.Name)] = true
	}
	for _, a := range strings.Fields(string(out)) {
		name := canonical("/" + a)
		if !have[name] && !have[filepath.Join("usr/bin", filepath.Base(a))] && !have[filepath.Join("usr/sbin", filepath.Base(a))] {
			have[name] = true
			recs = append(recs, cpio.Symlink(name, Busybox))
		}
	}
	return cpio.WriteRecordsAndDirs(w, recs)
}

// canonical maps a host path to its place in the archive: its directory
// with symlinks resolved (/lib/x86_64-linux-gnu -> usr/lib/x86_64-linux-gnu),
// the name itself kept (it may be a symlink of the chain ldd followed).
func canonical(p string) string {
	dir := filepath.Dir(p)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	} else {
		// Paths that do not exist on the host (busybox applets) follow
		// Debian's merged /usr.
		for _, top := range []string{"/bin", "/sbin", "/lib", "/lib64"} {
			if dir == top || strings.HasPrefix(dir, top+"/") {
				dir = "/usr" + dir
				break
			}
		}
	}
	return cpio.Normalize(filepath.Join(dir, filepath.Base(p)))
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("guest: no go.mod at or above %s", wd)
}

// Scripts returns the files of an embedded rootfs directory as guest files:
// "init" becomes /init, "profile" the given path, every other file a
// command in /usr/sbin.
func Scripts(fsys fs.FS, dir, profile string) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f := File{Path: "/usr/sbin/" + e.Name(), Mode: 0o755, Data: data}
		switch e.Name() {
		case "init":
			f.Path = "/init"
		case "profile":
			f.Path, f.Mode = profile, 0o644
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

// ReadArchive reads back an initramfs Initramfs wrote, contents in
// memory, for tests.
func ReadArchive(path string) ([]cpio.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		buf := make([]byte, r.FileSize)
		if _, err := r.ReadAt(buf, 0); err != nil && r.FileSize > 0 {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		recs[i].ReaderAt = bytes.NewReader(buf)
	}
	return recs, nil
}
