package pid1

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Back-off between restarts of a child that keeps dying: a crash costs a
// second, a crash loop does not flood the console.
const (
	minBackoff = 1 * time.Second
	maxBackoff = 30 * time.Second
	// A child that ran this long is considered healthy: its next crash
	// restarts it after minBackoff again.
	healthyAfter = 60 * time.Second
)

// supervisor runs one child process and restarts it when it exits.
type supervisor struct {
	name   string
	argv   []string
	log    *slog.Logger
	reaper *reaper
	// minBackoff and maxBackoff bound the wait between restarts.
	minBackoff, maxBackoff time.Duration

	// stopped is closed when the supervision loop has ended and the child is
	// gone.
	stopped chan struct{}
	// stop asks the loop to end; its value is how long the child may take
	// to exit after SIGTERM before it gets SIGKILL.
	stop chan time.Duration
}

func newSupervisor(name string, argv []string, log *slog.Logger, r *reaper) *supervisor {
	return &supervisor{
		name:       name,
		argv:       argv,
		log:        log.With("child", name),
		reaper:     r,
		minBackoff: minBackoff,
		maxBackoff: maxBackoff,
		stopped:    make(chan struct{}),
		stop:       make(chan time.Duration, 1),
	}
}

// run supervises until Stop is called.
func (s *supervisor) run() {
	defer close(s.stopped)
	backoff := s.minBackoff
	for {
		cmd := exec.Command(s.argv[0], s.argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		started := time.Now()
		exited, err := s.reaper.start(cmd)
		if err != nil {
			s.log.Error("cannot start", "err", err)
		} else {
			s.log.Info("started", "pid", cmd.Process.Pid)
			select {
			case ws := <-exited:
				_ = cmd.Process.Release()
				s.log.Error("exited", "status", describe(ws), "ran", time.Since(started).Round(time.Millisecond))
			case grace := <-s.stop:
				s.terminate(cmd, exited, grace)
				return
			}
		}
		if time.Since(started) > healthyAfter {
			backoff = s.minBackoff
		}
		s.log.Info("restarting", "in", backoff)
		select {
		case <-time.After(backoff):
		case <-s.stop:
			return
		}
		backoff = min(2*backoff, s.maxBackoff)
	}
}

// Stop asks the child to exit (SIGTERM: the gateway hands over its VIP),
// kills it after grace, and returns when it is gone or ctx ends.
func (s *supervisor) Stop(ctx context.Context, grace time.Duration) {
	select {
	case s.stop <- grace:
	default:
	}
	select {
	case <-s.stopped:
	case <-ctx.Done():
	}
}

func (s *supervisor) terminate(cmd *exec.Cmd, exited <-chan unix.WaitStatus, grace time.Duration) {
	_ = cmd.Process.Signal(unix.SIGTERM)
	select {
	case ws := <-exited:
		s.log.Info("stopped", "status", describe(ws))
	case <-time.After(grace):
		s.log.Warn("did not stop in time, killing", "grace", grace)
		_ = cmd.Process.Kill()
		<-exited
	}
	_ = cmd.Process.Release()
}

func describe(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		return "signal " + ws.Signal().String()
	}
	return "unknown"
}
