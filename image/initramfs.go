package image

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/cpio"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
)

// Charon is where Debian's strongswan-charon puts the IKE daemon; its
// plugins are dlopen'ed from CharonPlugins, so each one's library closure
// must be in the initramfs too (mkuimage adds it with ldd).
const (
	Charon        = "/usr/lib/ipsec/charon"
	CharonPlugins = "/usr/lib/ipsec/plugins"
)

// CharonPluginList is what the image ships of charon's plugins: what the
// gateway's strongswan.conf loads (services/ipsec) and nothing else, since
// each plugin drags in its own libraries.
var CharonPluginList = []string{
	"aes", "sha1", "sha2", "hmac", "gcm", "xcbc", "drbg", "random", "nonce",
	"openssl", "pem", "pkcs1", "pkcs8", "x509", "pubkey",
	"kernel-netlink", "socket-default", "vici", "counters", "kdf",
}

// hostFiles are libraries nothing links against but glibc dlopens: without
// libgcc_s, pthread_cancel aborts charon's thread pool at start.
var hostFiles = []string{
	"/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
}

// InitramfsOptions describe one initramfs build.
type InitramfsOptions struct {
	Output  string // the cpio file to write
	TempDir string
	Version string // stamped into the binary and /etc/tidegate-release
	Modules string // staged lib/modules/<release> tree
	Release string // kernel release the modules belong to
	Init    string // Go package of the init, e.g. ./init
}

// BuildInitramfs builds the tidegate initramfs with mkuimage.
func BuildInitramfs(o InitramfsOptions) error {
	base, err := cpio.ArchiveFromRecords(append(BaseLayout(),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("etc/tidegate-release", o.Version+"\n", 0o444),
		cpio.StaticFile("etc/hosts", "127.0.0.1 localhost\n", 0o444),
		cpio.StaticFile("etc/passwd", "root:x:0:0:root:/:/bin/init\n", 0o444),
		cpio.StaticFile("etc/group", "root:x:0:\n", 0o444),
	))
	if err != nil {
		return err
	}
	files := []string{
		Charon + ":" + Charon[1:],
		o.Modules + ":" + filepath.Join("lib/modules", o.Release),
	}
	for _, p := range CharonPluginList {
		f := filepath.Join(CharonPlugins, "libstrongswan-"+p+".so")
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("charon plugin %s: %w (is scripts/packages.txt installed? `make deps`)", p, err)
		}
		files = append(files, f+":"+f[1:])
	}
	for _, f := range hostFiles {
		files = append(files, f+":"+f[1:])
	}
	env := golang.Default(golang.DisableCGO(), golang.WithGOOS("linux"), golang.WithGOARCH("amd64"))
	// The builder's own -ldflags ("-s -w -buildid=": no symbol table, no
	// DWARF; panics still print full stacks) would be replaced by ours, so
	// ours repeats them: 6 MiB less for GRUB to read and the kernel to
	// unpack at every boot. Inlining stays on, as in any Go build: the
	// builder turns it off for size.
	build := &golang.BuildOpts{
		EnableInlining: true,
		ExtraArgs:      []string{"-ldflags=-s -w -buildid= -X main.version=" + o.Version},
	}
	log := llog.New(slog.LevelWarn, func(format string, v ...any) { fmt.Fprintf(os.Stderr, "mkuimage: "+format+"\n", v...) })
	return uimage.Create(log,
		uimage.WithReplaceEnv(env),
		uimage.WithTempDir(o.TempDir),
		uimage.WithBaseArchive(base),
		uimage.WithBinaryCommandsOpts(build, o.Init),
		uimage.WithInit("init"),
		uimage.WithFiles(files...),
		uimage.WithCPIOOutput(o.Output),
	)
}
