package lifeline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxLogged bounds the log lines one Monitor writes about lines it
// rejects; Close logs how many there were in all.
const maxLogged = 3

// A Monitor is the supervisor's end of one child's lifeline: one per start
// of the child.
type Monitor struct {
	r, w *os.File
	log  *slog.Logger
	done chan struct{} // closed when the reader has stopped

	mu       sync.Mutex // guards the fields below
	closedW  bool
	lastBeat time.Time // zero until the first beat
	claims   []Claim
	rejected int
}

// Attach makes a lifeline for cmd, which must not have started: it adds
// the pipe's write end to cmd.ExtraFiles and EnvVar to its environment, and
// starts reading. Call Started once cmd has started, and Close after it has
// exited (or failed to start). Rejected lines are logged to log.
func Attach(cmd *exec.Cmd, log *slog.Logger) (*Monitor, error) {
	if cmd.Process != nil {
		return nil, errors.New("lifeline: the command has started already")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("lifeline: %w", err)
	}
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	env := slices.DeleteFunc(cmd.Environ(), func(kv string) bool { return strings.HasPrefix(kv, EnvVar+"=") })
	cmd.Env = append(env, EnvVar+"="+strconv.Itoa(fd))
	m := &Monitor{r: r, w: w, log: log, done: make(chan struct{})}
	go m.read()
	return m, nil
}

// Started closes the supervisor's copy of the write end, so that the
// child's exit ends the pipe.
func (m *Monitor) Started() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closedW {
		m.closedW = true
		_ = m.w.Close()
	}
}

// Silence returns how long ago the child beat last; ok is false until it
// has beaten once.
func (m *Monitor) Silence() (d time.Duration, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastBeat.IsZero() {
		return 0, false
	}
	return time.Since(m.lastBeat), true
}

// Claims returns the claims read so far.
func (m *Monitor) Claims() []Claim {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.claims)
}

// Close reads what the child left in the pipe, for at most wait (the pipe
// ends sooner once the child and every process that inherited the write
// end are gone), stops reading and returns every claim. Call it after the
// child has exited.
func (m *Monitor) Close(wait time.Duration) []Claim {
	m.Started()
	select {
	case <-m.done:
	case <-time.After(wait):
		// Something still holds the write end (a grandchild that
		// inherited it): what the child wrote is in the pipe and read by
		// now, stop waiting for the end.
		_ = m.r.SetReadDeadline(time.Now())
		<-m.done
	}
	_ = m.r.Close()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rejected > maxLogged {
		m.logf("lifeline: lines rejected in all", "count", m.rejected)
	}
	return slices.Clone(m.claims)
}

// read follows the pipe until it ends, is closed or its read deadline
// passes. It reads through a fixed buffer of MaxLine bytes: a longer line
// is skipped up to its newline.
func (m *Monitor) read() {
	defer close(m.done)
	defer func() {
		// The supervisor is PID 1: a bug here must not take it down.
		if p := recover(); p != nil {
			m.logf("lifeline: reader panicked; ignoring the rest of this child's lifeline", "panic", p)
		}
	}()
	br := bufio.NewReaderSize(m.r, MaxLine)
	long := false // inside a line longer than MaxLine
	for {
		b, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !long {
				m.reject(fmt.Errorf("line longer than %d bytes", MaxLine))
			}
			long = true
			continue
		case err == io.EOF && len(b) > 0:
			// A last line without its newline: not written by a Lifeline,
			// whose lines are written whole.
			m.reject(errors.New("unterminated line at the end"))
			return
		case err != nil:
			return
		case long:
			long = false // the newline of the line skipped
			continue
		}
		msg, err := parseLine(string(b[:len(b)-1]))
		if err != nil {
			m.reject(fmt.Errorf("%w: %q", err, b[:min(len(b)-1, 40)]))
			continue
		}
		m.handle(msg)
	}
}

func (m *Monitor) handle(msg message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if msg.beat {
		m.lastBeat = time.Now()
		return
	}
	if slices.Contains(m.claims, msg.claim) {
		return
	}
	if len(m.claims) >= MaxClaims {
		m.rejectLocked(fmt.Errorf("claim %v: more than %d claims", msg.claim, MaxClaims))
		return
	}
	m.claims = append(m.claims, msg.claim)
}

func (m *Monitor) reject(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejectLocked(err)
}

func (m *Monitor) rejectLocked(err error) {
	m.rejected++
	if m.rejected <= maxLogged {
		m.logf("lifeline: line rejected", "err", err)
	}
}

func (m *Monitor) logf(msg string, args ...any) {
	if m.log != nil {
		m.log.Warn(msg, args...)
	}
}
