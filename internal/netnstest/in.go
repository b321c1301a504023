package netnstest

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/vishvananda/netns"
)

// errGoexit is what In returns when fn never returned: it called
// runtime.Goexit, as t.Fatal does (which must not be called there).
var errGoexit = errors.New("netnstest: the function run in the namespace did not return")

// In runs fn on an OS thread inside the named namespace and returns its
// error. A namespace belongs to a thread, not to a goroutine, so fn must
// not hand its work to other goroutines; but the sockets it opens stay in
// the namespace, used from any goroutine afterwards. The thread goes back
// to its own namespace afterwards; if it cannot, it is never reused (a
// locked thread whose goroutine ends dies, where the main thread would
// stay, and with it the whole test process, in the namespace).
func In(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		err := errGoexit
		defer func() { errc <- err }()
		runtime.LockOSThread()
		orig, e := netns.Get()
		if e != nil {
			err = fmt.Errorf("netnstest: this thread's namespace: %w", e)
			return
		}
		defer orig.Close()
		h, e := netns.GetFromName(ns)
		if e != nil {
			runtime.UnlockOSThread() // still in its own namespace
			err = fmt.Errorf("netnstest: namespace %s: %w", ns, e)
			return
		}
		defer h.Close()
		if e := netns.Set(h); e != nil {
			err = fmt.Errorf("netnstest: entering %s: %w", ns, e)
			return
		}
		defer func() {
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
		}()
		err = fn()
	}()
	return <-errc
}

// Command returns a command that runs name with args inside ns (through
// `ip netns exec`, which execs it: the process's pid is the command's).
func Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}
