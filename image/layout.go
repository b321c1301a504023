package image

import "github.com/u-root/mkuimage/cpio"

// BaseLayout is what every tidegate initramfs starts from, the gateway's
// and the QEMU lab's guests' alike: the mount points PID 1 mounts on, /run
// with /var/run pointing at it, and the two device nodes the kernel needs
// before devtmpfs is mounted (the console for PID 1's stdio, /dev/null).
// Callers append their own directories and files; parents come first.
func BaseLayout() []cpio.Record {
	return []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.Directory("proc", 0o555),
		cpio.Directory("sys", 0o555),
		cpio.Directory("run", 0o755),
		cpio.Directory("tmp", 0o1777),
		cpio.Directory("etc", 0o755),
		cpio.Directory("var", 0o755),
		cpio.Symlink("var/run", "/run"),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.CharDev("dev/null", 0o666, 1, 3),
	}
}
