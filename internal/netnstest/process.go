package netnstest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/testlog"
)

// A Process is a program a test runs in the background for its length
// (a routing daemon, a DHCP server, the gateway under test), its standard
// output and error in a file.
type Process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once Wait has returned
	err  error         // Wait's, once done is closed
}

// Start starts cmd (usually from Command, to run it inside a namespace)
// with its standard output and error in the file log, and stops it when
// the test ends: SIGKILL, by pid, as for every process a test leaves; if
// the test failed, the last 60 lines of the file go to the test's log. It
// dies with the test binary too (deathsig), should that be killed first.
func Start(t testing.TB, cmd *exec.Cmd, log string) *Process {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = f, f
	if err := deathsig.Start(cmd); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &Process{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s (%s):\n%s", cmd.Args, log, testlog.Tail(p.Output(), 60))
		}
	})
	return p
}

// Pid is the process's pid. Through `ip netns exec`, which execs, it is
// the program's own.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig, unless the process has exited.
func (p *Process) Signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// Done is closed once the process has exited and been waited for.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (exec.Cmd.Wait's error), once Done is
// closed.
func (p *Process) Err() error { return p.err }

// Stop kills the process, unless it has exited, and waits for it.
func (p *Process) Stop() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Log is the file its output goes to.
func (p *Process) Log() string { return p.log }

// Output is what the process has written so far.
func (p *Process) Output() []byte {
	b, _ := os.ReadFile(p.log)
	return b
}
