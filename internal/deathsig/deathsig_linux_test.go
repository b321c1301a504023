package deathsig

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/testchild"
)

func TestMain(m *testing.M) {
	// The runtime never ends the main thread: a locked goroutine that
	// returns there leaves it wedged, not ended. Keeping main on it makes
	// fromEndingThread's goroutine run on a thread that ends.
	runtime.LockOSThread()
	testchild.Main(m, startAndExit)
}

// startAndExit is TestDiesWithProcess's child: it starts a process, says
// its pid, and exits without waiting for it.
func startAndExit(string) int {
	cmd := exec.Command("sleep", "60")
	if err := Start(cmd); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println(cmd.Process.Pid)
	return 0
}

// fromEndingThread starts cmd with start on a goroutine locked to its
// thread that returns without unlocking, so the runtime ends the thread,
// as namespace code does.
func fromEndingThread(t *testing.T, cmd *exec.Cmd, start func(*exec.Cmd) error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- start(cmd)
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// exitsWithin reports whether cmd exits within d, and how.
func exitsWithin(cmd *exec.Cmd, d time.Duration) (bool, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return true, err
	case <-time.After(d):
		return false, nil
	}
}

// TestOutlivesThread: a child from Start lives on when the thread that
// asked for it ends, where one forked from that thread with Pdeathsig is
// killed (the trap Start is for).
func TestOutlivesThread(t *testing.T) {
	plain := exec.Command("sleep", "60")
	plain.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fromEndingThread(t, plain, (*exec.Cmd).Start)
	if exited, err := exitsWithin(plain, 5*time.Second); !exited {
		t.Fatal("a child forked with Pdeathsig from a thread that ended lives on; the kernel no longer signals per thread?")
	} else {
		t.Logf("forked from the ending thread: %v", err)
	}

	cmd := exec.Command("sleep", "60")
	fromEndingThread(t, cmd, Start)
	if exited, err := exitsWithin(cmd, time.Second); exited {
		t.Fatalf("the child of Start exited when the thread that asked for it ended: %v", err)
	}
	if cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("Pdeathsig = %v, want SIGKILL", cmd.SysProcAttr.Pdeathsig)
	}
}

// TestKeepsSysProcAttr: Start adds the signal to what the caller set.
func TestKeepsSysProcAttr(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if a := cmd.SysProcAttr; !a.Setsid || a.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr = %+v, want Setsid and Pdeathsig SIGKILL", a)
	}
	if err := Start(exec.Command("/nonexistent/program")); err == nil {
		t.Error("Start of a missing program: no error")
	}
}

// TestDiesWithProcess: a process that exits without waiting for its child
// takes the child with it.
func TestDiesWithProcess(t *testing.T) {
	out, err := testchild.Command("1").Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the child said %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the child's process %d outlived it by 5 s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid runs: it exists and is not a zombie waiting
// for a parent that does not reap.
func alive(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
	i := strings.LastIndexByte(line, ')')
	return i < 0 || i+2 >= len(line) || line[i+2] != 'Z'
}
