package awspeer

import (
	"embed"

	"github.com/tidegate/tidegate/qemu/guest"
)

//go:embed rootfs
var rootfs embed.FS

// CmdLine is the guest's kernel command line.
const CmdLine = guest.CmdLine

// spec is what the peer is made of: iproute2, strongSwan, FRR, and
// iperf3 serving on the VPC host's address.
func spec() guest.Spec {
	s := guest.Join(guest.IPRoute2(), guest.StrongSwan(), guest.FRR(), guest.IPerf3())
	s.Modules = Modules
	return s
}

// BuildOptions say where the pinned kernel comes from.
type BuildOptions = guest.BuildOptions

// File is one file of the guest's configuration, rendered by Render.
type File = guest.File

// Base is what every peer guest shares: the kernel, its staged modules and
// the host's programs with their libraries. Initramfs adds a Config.
type Base struct{ *guest.Base }

// Prepare fetches (or finds in the cache) the pinned kernel, stages the
// modules the guest loads and collects the host programs' files. Close
// removes the staging directory.
func Prepare(o BuildOptions) (*Base, error) {
	b, err := guest.Prepare(o, spec())
	if err != nil {
		return nil, err
	}
	return &Base{b}, nil
}

// Initramfs writes the guest's initramfs for c to path. extra files are
// added as they are, e.g. a test binary to run in the guest's kernel.
func (b *Base) Initramfs(c Config, path string, extra ...File) error {
	conf, err := Render(c)
	if err != nil {
		return err
	}
	scripts, err := guest.Scripts(rootfs, "rootfs", "/etc/awspeer/profile")
	if err != nil {
		return err
	}
	files := append(guest.Users(), guest.Hosts(c.withDefaults().Hostname))
	files = append(append(append(files, scripts...), conf...), extra...)
	return b.Base.Initramfs(path, files...)
}
