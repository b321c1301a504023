package ipsec

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// charonAttr puts charon in its own session and kills it when the thread
// that started it exits (see startCharon).
func charonAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setsid: true}
}

// privateRun gives the calling (locked) thread a private mount namespace
// with runDir bind-mounted on charonDir (/run), which charon inherits.
func privateRun(runDir string) error {
	err := unix.Unshare(unix.CLONE_NEWNS)
	if err == nil {
		// Keep the bind mount out of the parent's namespace even when "/"
		// is a shared mount (systemd makes it one).
		err = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
	}
	if err == nil {
		err = unix.Mount(runDir, charonDir, "", unix.MS_BIND, "")
	}
	return err
}
