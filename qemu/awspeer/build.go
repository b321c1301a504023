package awspeer

import (
	"embed"
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

//go:embed rootfs
var rootfs embed.FS

// Host programs the guest runs, from Debian packages installed on the host
// (scripts/packages.txt): busybox-static, iproute2, strongswan-charon,
// strongswan-swanctl, libstrongswan-standard-plugins, frr.
const (
	Busybox = "/usr/bin/busybox"
	IP      = "/usr/bin/ip"
	Swanctl = "/usr/sbin/swanctl"
	Vtysh   = "/usr/bin/vtysh"
	FRRDir  = "/usr/lib/frr"
)

// CharonPlugins are the plugins charon (strongswan.conf's charon.load) and
// swanctl (swanctl.load) load; each is dlopen'ed, so each brings its own
// library closure.
var CharonPlugins = []string{
	"random", "nonce", "openssl", "kdf", "kernel-netlink", "socket-default", "vici",
	"pem", "pkcs1", "pkcs8", "x509", "pubkey",
}

// hostFiles are files nothing links against but that are needed all the
// same: glibc dlopens libgcc_s for pthread_cancel (without it charon's
// thread pool aborts at start), and libyang reads FRR's YANG modules.
var hostFiles = []string{
	"/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
}

var hostDirs = []string{"/usr/share/yang"}

// CmdLine is the guest's kernel command line: the serial console, no kernel
// chatter, and a panic (a broken init) that ends QEMU at once (it runs with
// -no-reboot) instead of hanging the test.
const CmdLine = "console=ttyS0,115200 rdinit=/init quiet panic=-1"

// BuildOptions say where the pinned kernel comes from.
type BuildOptions struct {
	// Repo is the repository root, for image/kernel.lock; [the directory
	// holding go.mod at or above the working directory].
	Repo string
	// Cache is where the kernel package is downloaded and unpacked;
	// [Repo/out/cache], shared with `make image`.
	Cache string
}

// Base is what every peer guest shares: the kernel, its staged modules and
// the host's programs with their libraries. Initramfs adds a Config.
type Base struct {
	Kernel  string // vmlinuz of the pinned Debian kernel
	Release string // its uname -r

	modules string   // staged lib/modules/<release> tree
	files   []string // host paths, each with its symlink chain
	tmp     string
}

// Prepare fetches (or finds in the cache) the pinned kernel, stages the
// modules the guest loads and collects the host programs' files. Close
// removes the staging directory.
func Prepare(o BuildOptions) (*Base, error) {
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
		return nil, fmt.Errorf("awspeer: %w", err)
	}
	k, err := image.FetchKernel(pin, o.Cache)
	if err != nil {
		return nil, fmt.Errorf("awspeer: %w", err)
	}
	tmp, err := os.MkdirTemp("", "awspeer-")
	if err != nil {
		return nil, err
	}
	b := &Base{Kernel: k.VMLinuz, Release: k.Release, modules: filepath.Join(tmp, "modules"), tmp: tmp}
	if _, err := image.StageModules(k, Modules, b.modules); err != nil {
		b.Close()
		return nil, fmt.Errorf("awspeer: modules: %w", err)
	}
	if b.files, err = hostClosure(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Close removes the staged modules.
func (b *Base) Close() error { return os.RemoveAll(b.tmp) }

// hostClosure lists the programs, plugins and extra files with their
// libraries and every symlink on the way to each.
func hostClosure() ([]string, error) {
	progs := []string{Busybox, IP, "/usr/lib/ipsec/charon", Swanctl, Vtysh,
		filepath.Join(FRRDir, "zebra"), filepath.Join(FRRDir, "bgpd")}
	for _, p := range CharonPlugins {
		progs = append(progs, filepath.Join("/usr/lib/ipsec/plugins", "libstrongswan-"+p+".so"))
	}
	for _, p := range append(progs, hostFiles...) {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("awspeer: %w (install scripts/packages.txt: `make deps`)", err)
		}
	}
	libs, err := ldd.FList(progs...)
	if err != nil {
		return nil, fmt.Errorf("awspeer: ldd: %w", err)
	}
	files := append(append(progs, hostFiles...), libs...)
	for _, d := range hostDirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("awspeer: %w", err)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Initramfs writes the guest's initramfs (an uncompressed newc cpio, which
// the kernel unpacks faster than a compressed one under TCG) for c to path.
// extra files are added as they are, e.g. a test binary to run in the
// guest's kernel.
func (b *Base) Initramfs(c Config, path string, extra ...File) error {
	conf, err := Render(c)
	if err != nil {
		return err
	}
	conf = append(conf, extra...)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := cpio.NewDedupWriter(cpio.Newc.Writer(f))
	err = b.write(w, c.withDefaults(), conf)
	if err == nil {
		err = cpio.WriteTrailer(w)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("awspeer: initramfs: %w", err)
	}
	return nil
}

func (b *Base) write(w cpio.RecordWriter, c Config, conf []File) error {
	// Debian's merged /usr: every file goes in under its real path, the
	// top-level directories are symlinks as on the host, so nothing is
	// unpacked through a symlink.
	recs := []cpio.Record{
		cpio.Symlink("bin", "usr/bin"),
		cpio.Symlink("sbin", "usr/sbin"),
		cpio.Symlink("lib", "usr/lib"),
		cpio.Symlink("lib64", "usr/lib64"),
		cpio.Directory("dev", 0o755),
		cpio.Directory("proc", 0o555),
		cpio.Directory("sys", 0o555),
		cpio.Directory("run", 0o755),
		cpio.Directory("tmp", 0o1777),
		cpio.Directory("root", 0o700),
		cpio.Directory("etc", 0o755),
		cpio.Directory("var", 0o755),
		cpio.Symlink("var/run", "/run"),
		cpio.Directory("var/log", 0o755),
		cpio.Directory("var/lib", 0o755),
		cpio.Directory("var/tmp", 0o1777),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.CharDev("dev/null", 0o666, 1, 3),
		// FRR's daemons drop to user frr; vtysh talks to them as group
		// frrvty.
		cpio.StaticFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nfrr:x:100:101:FRR:/run/frr:/bin/false\n", 0o644),
		cpio.StaticFile("etc/group", "root:x:0:\nfrr:x:101:\nfrrvty:x:102:frr\n", 0o644),
		cpio.StaticFile("etc/hosts", "127.0.0.1 localhost "+c.Hostname+"\n", 0o644),
	}
	err := fs.WalkDir(rootfs, "rootfs", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := rootfs.ReadFile(p)
		if err != nil {
			return err
		}
		name, mode := "usr/sbin/"+e.Name(), uint64(0o755)
		switch e.Name() {
		case "init":
			name = "init"
		case "profile":
			name, mode = "etc/awspeer/profile", 0o644
		}
		recs = append(recs, cpio.StaticFile(name, string(data), mode))
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range conf {
		recs = append(recs, cpio.StaticFile(strings.TrimPrefix(f.Path, "/"), string(f.Data), uint64(f.Mode)))
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
	err = filepath.WalkDir(b.modules, func(p string, e fs.DirEntry, err error) error {
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
	return "", fmt.Errorf("awspeer: no go.mod at or above %s", wd)
}
