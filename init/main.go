// Command tidegate is the whole appliance in one binary.
//
// As process 1 (/init in the initramfs) it does PID 1's duties and runs
// itself as the supervised "gateway" child. As an ordinary process,
//
//	tidegate --config site.yaml --name vpn-gw-1
//
// runs one gateway of a site from a file, on any Linux machine or in a
// network namespace, without the Metadata Service or PID 1 duties. The
// command line is dispatched in cli.go; the operator's sub-commands
// (validate, import-aws, render, linode, status), which also build and run
// on macOS, are in cli_*.go, one file each; the console shell (`tidegate
// shell`, which PID 1 runs on /dev/console) is in shell.go. `tidegate help`
// lists them all, `tidegate COMMAND -h` their flags.
//
// MPTCP stays off (see go.mod): BGP needs IP_TTL and TCP_MD5SIG on its
// listener. The directive repeats it for builds outside module mode.
//
//go:debug multipathtcp=0
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"

	"github.com/tidegate/tidegate/init/console"
	"github.com/tidegate/tidegate/init/pid1"
	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/lifeline"
	"golang.org/x/sys/unix"
)

// version is set by the image build (git describe).
var version = "dev"

func main() {
	if os.Getpid() == 1 {
		pid1.Main([]string{"/proc/self/exe", "gateway"}, []string{"/proc/self/exe", "shell"})
		return // not reached
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// runGateway runs a gateway until SIGTERM or SIGINT. A gateway needs
// Linux's XFRM, netlink and nftables; on another system (the workstation
// commands build for macOS too) it says so on stderr and fails.
func runGateway(stderr io.Writer, o gateway.Options) int {
	if runtime.GOOS != "linux" {
		fmt.Fprintf(stderr, "tidegate: a gateway runs on Linux only; on %s tidegate has the workstation commands (tidegate help)\n", runtime.GOOS)
		return cmdline.Fail
	}
	o.Version = version
	o.Log = consolelog.Default()
	o.Uptime = console.Uptime
	// Before anything starts a child process (charon), which must not
	// inherit the lifeline.
	o.Lifeline = lifeline.FromEnv()
	if err := o.Lifeline.Err(); err != nil {
		o.Log.Warn("no lifeline to PID 1", "err", err)
	}
	setMemoryLimit(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	defer stop()
	if err := gateway.Run(ctx, o); err != nil && ctx.Err() == nil {
		o.Log.Error("gateway failed", "err", err)
		return 1
	}
	return 0
}

// setMemoryLimit gives the Go runtime the BGP speaker's soft memory limit
// (bgp.MemoryLimit says why), unless GOMEMLIMIT sets one. It returns the
// limit in force.
func setMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1) // the runtime read it at start
	}
	debug.SetMemoryLimit(bgp.MemoryLimit)
	return bgp.MemoryLimit
}
