package pid1

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/tidegate/tidegate/services/lifeline"
	"github.com/vishvananda/netlink"
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

// The lifeline's defaults (services/lifeline).
const (
	// watchdog is how long a child that has beaten may stay silent before
	// it is taken as hung and killed. The gateway beats every second.
	watchdog = 5 * time.Second
	// lifelineDrain bounds the wait, after the child exited, for the rest
	// of its lifeline: what the child wrote is in the pipe already, so
	// this only matters if a grandchild kept the pipe open.
	lifelineDrain = 300 * time.Millisecond
)

// supervisor runs one child process and restarts it when it exits.
type supervisor struct {
	name   string
	argv   []string
	log    *slog.Logger
	reaper *reaper
	// minBackoff and maxBackoff bound the wait between restarts.
	minBackoff, maxBackoff time.Duration

	// lifeline gives every start of the child a lifeline: the addresses
	// it claims are removed from their interfaces when it exits, however
	// it exits, and once it has beaten, a silence longer than watchdog
	// gets it killed (and restarted). A child that never beats is left
	// alone.
	lifeline bool
	watchdog time.Duration
	// nl removes claimed addresses: PID 1's network namespace, or a
	// test's.
	nl *netlink.Handle

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
		watchdog:   watchdog,
		nl:         &netlink.Handle{},
		stopped:    make(chan struct{}),
		stop:       make(chan time.Duration, 1),
	}
}

// run supervises until Stop is called.
func (s *supervisor) run() {
	defer close(s.stopped)
	defer func() {
		// A goroutine's panic would end PID 1 and with it the machine.
		// Restarting the loop could start a second child next to a
		// live one, so supervision ends here; Stop still returns.
		if p := recover(); p != nil {
			s.log.Error("supervisor panicked; the child is no longer supervised", "panic", p)
		}
	}()
	backoff := s.minBackoff
	for {
		started := time.Now()
		if s.once() {
			return
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

// once starts the child and waits until it has exited and its claimed
// addresses are removed. It reports whether Stop ended it.
func (s *supervisor) once() (stopped bool) {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var lf *lifeline.Monitor
	if s.lifeline {
		var err error
		if lf, err = lifeline.Attach(cmd, s.log); err != nil {
			s.log.Error("starting without a lifeline: no watchdog, claims not honoured", "err", err)
		}
	}
	started := time.Now()
	exited, err := s.reaper.start(cmd)
	if err != nil {
		s.log.Error("cannot start", "err", err)
		if lf != nil {
			lf.Close(0)
		}
		return false
	}
	s.log.Info("started", "pid", cmd.Process.Pid)
	defer s.release(lf)
	var tick <-chan time.Time
	if lf != nil {
		lf.Started()
		t := time.NewTicker(max(min(s.watchdog/4, time.Second), 10*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	killed := false
	for {
		select {
		case ws := <-exited:
			_ = cmd.Process.Release()
			s.log.Error("exited", "status", describe(ws), "ran", time.Since(started).Round(time.Millisecond), "watchdog", killed)
			return false
		case grace := <-s.stop:
			s.terminate(cmd, exited, grace)
			return true
		case <-tick:
			if d, ok := lf.Silence(); ok && d > s.watchdog && !killed {
				s.log.Error("watchdog: no beat; killing the child as hung", "silent", d.Round(time.Millisecond), "pid", cmd.Process.Pid)
				if err := cmd.Process.Kill(); err != nil {
					s.log.Error("watchdog: kill", "err", err)
				}
				killed = true
			}
		}
	}
}

// release removes the addresses the exited child claimed on its lifeline
// (nil: none). Addresses already gone are fine: a child that stopped
// cleanly removed its own.
func (s *supervisor) release(lf *lifeline.Monitor) {
	if lf == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("removing claimed addresses panicked", "panic", p)
		}
	}()
	for _, c := range lf.Close(lifelineDrain) {
		removed, err := removeClaim(s.nl, c)
		switch {
		case err != nil:
			s.log.Error("cannot remove a claimed address", "addr", c.Prefix, "interface", c.Interface, "err", err)
		case removed:
			s.log.Warn("removed an address the child claimed", "addr", c.Prefix, "interface", c.Interface)
		}
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
