package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tidegate/tidegate/init/shell"
	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/services/status"
	"golang.org/x/sys/unix"
)

var shellCommand = command{
	name:  "shell",
	args:  "[--socket PATH]",
	short: "the read-only console shell (PID 1 starts it)",
	doc: "  The console's read-only shell (show status, show tunnels, ...) on standard\n" +
		"  input and output, talking to a gateway's status socket.",
	appliance: true,
	run:       runShell,
}

// runShell is `tidegate shell`: the console shell on standard input and
// output. PID 1 runs it on /dev/console; an operator may also run it
// against a standalone gateway's socket, or pipe commands into it.
func runShell(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	sock := fs.String("socket", status.DefaultSocket, "the gateway's status `socket`")
	if code, ok := fs.ParseFlags(args, stdout, stderr); !ok {
		return code
	}
	c, err := status.NewClient(*sock)
	if err != nil {
		return fs.Fail(stderr, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	defer stop()
	sh := &shell.Shell{In: os.Stdin, Out: stdout, Source: c, Where: *sock, Signal: signalInit()}
	if sh.Signal != nil {
		// Only on the appliance: debug kill charon.
		sh.Kill = func(pid int, sig syscall.Signal) error { return unix.Kill(pid, sig) }
	}
	// On a terminal, Ctrl-D ends a read but not the console: there is
	// nothing to log out to. Piped commands end with their input.
	tty := isTerminal(os.Stdin)
	for {
		err := sh.Run(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, err)
			return cmdline.Fail
		}
		if !tty || ctx.Err() != nil {
			return cmdline.OK
		}
	}
}

// signalInit returns how reboot and poweroff reach PID 1, or nil when PID 1
// is not this binary (a shell run on a workstation must not signal systemd,
// which takes SIGTERM as "re-execute").
func signalInit() func(syscall.Signal) error {
	self, err1 := os.Executable()
	pid1Exe, err2 := os.Readlink("/proc/1/exe")
	if err1 != nil || err2 != nil {
		return nil
	}
	if s, err := filepath.EvalSymlinks(self); err == nil {
		self = s
	}
	if self != pid1Exe {
		return nil
	}
	return func(sig syscall.Signal) error { return unix.Kill(1, sig) }
}
