package pid1

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// reaper owns wait4(-1). As process 1 we inherit every orphan and must
// collect them all, so nothing else may call Wait: children we started
// ourselves get their exit status from the reaper through a channel.
type reaper struct {
	mu      sync.Mutex
	waiters map[int]chan unix.WaitStatus
}

// processReaper returns the process's only reaper: two would steal each
// other's children.
var processReaper = sync.OnceValue(newReaper)

func newReaper() *reaper {
	r := &reaper{waiters: make(map[int]chan unix.WaitStatus)}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD)
	go func() {
		for range sigs {
			r.reapAll()
		}
	}()
	return r
}

// start starts cmd and returns a channel that receives its exit status.
// Holding mu across Start and registration means reapAll, which looks the
// pid up under mu, cannot miss a child that exits at once.
func (r *reaper) start(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan unix.WaitStatus, 1)
	r.waiters[cmd.Process.Pid] = ch
	return ch, nil
}

// reapAll collects every exited child; signals coalesce, so one SIGCHLD may
// stand for many exits.
func (r *reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		r.mu.Lock()
		ch, ok := r.waiters[pid]
		delete(r.waiters, pid)
		r.mu.Unlock()
		if ok {
			ch <- ws
		}
	}
}
