//go:build unix

package lifeline

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// minBeatGap drops beats that follow the last one closer than this: a
	// child that beats in a tight loop by mistake costs neither it nor
	// PID 1 a system call per beat.
	minBeatGap = 100 * time.Millisecond
	// claimTimeout is how long Claim waits for room in a full pipe.
	claimTimeout = time.Second
)

// A Lifeline is the child's end of the link to its supervisor. Its methods
// are safe for concurrent use, and do nothing on a Lifeline without a
// supervisor (or a nil one).
type Lifeline struct {
	fd  int   // the pipe's write end; -1 without a supervisor
	err error // why there is none although EnvVar was set

	lastBeat atomic.Int64 // time of the last beat written, Unix nanoseconds
	broken   atomic.Bool  // the supervisor closed its end: stop writing

	mu      sync.Mutex // serialises Claim
	claimed map[Claim]bool
}

// FromEnv returns the lifeline the supervisor passed in EnvVar. Without the
// variable it returns a Lifeline that does nothing; with a variable that
// does not name the write end of a pipe, too, with the reason in Err.
//
// Call it before starting any child process: until then the descriptor
// is inherited by every exec. FromEnv marks it close-on-exec and removes
// EnvVar from the environment, so a second call finds nothing.
func FromEnv() *Lifeline {
	v, ok := os.LookupEnv(EnvVar)
	if !ok {
		return &Lifeline{fd: -1}
	}
	_ = os.Unsetenv(EnvVar)
	fd, err := checkFD(v)
	if err != nil {
		return &Lifeline{fd: -1, err: fmt.Errorf("lifeline: %s=%q: %w", EnvVar, v, err)}
	}
	return &Lifeline{fd: fd, claimed: map[Claim]bool{}}
}

// checkFD parses the descriptor and makes sure it is a pipe open for
// writing before the Lifeline writes to it: a stale variable must not make
// the child write into some other file it opened.
func checkFD(v string) (int, error) {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return -1, errors.New("not a descriptor number above 2")
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return -1, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return -1, fmt.Errorf("descriptor %d is not a pipe", fd)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return -1, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	if fl&unix.O_ACCMODE != unix.O_WRONLY {
		return -1, fmt.Errorf("descriptor %d is not a pipe's write end", fd)
	}
	unix.CloseOnExec(fd)
	// Non-blocking, so that Beat never waits for a slow supervisor.
	if err := unix.SetNonblock(fd, true); err != nil {
		return -1, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	return fd, nil
}

// Enabled reports whether a supervisor listens.
func (l *Lifeline) Enabled() bool { return l != nil && l.fd >= 0 && !l.broken.Load() }

// Err says why there is no lifeline although EnvVar was set, or nil.
func (l *Lifeline) Err() error {
	if l == nil {
		return nil
	}
	return l.err
}

// Beat tells the supervisor the caller is alive. It never blocks: a beat
// that does not fit in the pipe right away is dropped, as is one that
// follows the last by less than 100 ms.
func (l *Lifeline) Beat() {
	if !l.Enabled() {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastBeat.Load()
	if now-last < int64(minBeatGap) || !l.lastBeat.CompareAndSwap(last, now) {
		return
	}
	for {
		_, err := unix.Write(l.fd, []byte(beatLine))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EPIPE):
			l.broken.Store(true)
		case err != nil:
			// EAGAIN: the pipe is full of beats the supervisor has not
			// read yet; this one can go.
			l.lastBeat.Store(last)
		}
		return
	}
}

// Claim asks the supervisor to remove addrs from iface when this process is
// gone. Claim before adding the addresses: a claim that reached the pipe
// survives the process. Claiming an address twice is harmless; a process
// may hold MaxClaims claims. Without a supervisor Claim does nothing and
// returns nil; when the supervisor has closed its end, it returns an error.
func (l *Lifeline) Claim(iface string, addrs ...netip.Prefix) error {
	if l == nil || l.fd < 0 {
		return nil
	}
	if l.broken.Load() {
		return errors.New("lifeline: claim: the supervisor closed its end")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range addrs {
		c := Claim{Interface: iface, Prefix: p}
		if l.claimed[c] {
			continue
		}
		line, err := claimLine(c)
		if err != nil {
			return fmt.Errorf("lifeline: claim: %w", err)
		}
		if len(l.claimed) >= MaxClaims {
			return fmt.Errorf("lifeline: claim %v: more than %d claims", c, MaxClaims)
		}
		if err := l.write(line, time.Now().Add(claimTimeout)); err != nil {
			return fmt.Errorf("lifeline: claim %v: %w", c, err)
		}
		l.claimed[c] = true
	}
	return nil
}

// write writes one line, waiting for room in the pipe until deadline.
func (l *Lifeline) write(line string, deadline time.Time) error {
	for {
		_, err := unix.Write(l.fd, []byte(line))
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			if time.Now().After(deadline) {
				return errors.New("the supervisor does not read its end")
			}
			time.Sleep(10 * time.Millisecond)
		case errors.Is(err, unix.EPIPE):
			l.broken.Store(true)
			return errors.New("the supervisor closed its end")
		default:
			return err
		}
	}
}
