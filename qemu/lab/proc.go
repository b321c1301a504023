package lab

import (
	"os/exec"
	"syscall"
)

// startDying starts cmd so that it dies with this process, even if the
// lab is killed before it can clean up.
func startDying(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd.Start()
}
