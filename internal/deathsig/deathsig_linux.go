package deathsig

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

var (
	startForker sync.Once
	requests    chan request
)

type request struct {
	cmd *exec.Cmd
	err chan<- error
}

// Start starts cmd with SIGKILL as its parent-death signal, keeping the
// rest of cmd.SysProcAttr, from the thread that lives as long as this
// process. The caller owns cmd as after cmd.Start: it waits for it.
func Start(cmd *exec.Cmd) error {
	startForker.Do(func() {
		requests = make(chan request)
		go forker()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	errc := make(chan error, 1)
	requests <- request{cmd, errc}
	return <-errc
}

// forker forks each requested child. Its goroutine is locked to its
// thread and never returns, so the thread is never ended or reused.
func forker() {
	runtime.LockOSThread()
	for r := range requests {
		r.err <- r.cmd.Start()
	}
}
