package main

// The appliance's gateway commands: `tidegate gateway`, which PID 1 starts
// and supervises, and a standalone gateway run from a site file. Both end
// in runGateway.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"

	"github.com/tidegate/tidegate/init/console"
	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/gateway"
	"github.com/tidegate/tidegate/services/lifeline"
	"golang.org/x/sys/unix"
)

var standaloneCommand = command{
	args:  "--config FILE --name NAME [--run-dir DIR]",
	short: "run one gateway of a site from a file",
	doc: "  Runs one gateway of a site from a file, without the Metadata Service or\n" +
		"  PID 1's duties (Linux, root). \"tidegate help\" lists the other commands.",
	appliance: true,
	run:       cmdStandalone,
}

// cmdStandalone runs one gateway of a site from a file, on any Linux
// machine or in a network namespace.
func cmdStandalone(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	cfg := fs.String("config", "", "site configuration `file` (YAML)")
	name := fs.String("name", "", "this gateway's `name` in the configuration's gateways list")
	runDir := fs.String("run-dir", "", "runtime `directory` for charon's files (default /run/tidegate)")
	fs.Require("config", "name")
	if code, ok := fs.ParseFlags(args, stdout, stderr); !ok {
		return code
	}
	return runGateway(stderr, gateway.Options{ConfigFile: *cfg, Name: *name, RunDir: *runDir})
}

var gatewayCommand = command{
	name:  "gateway",
	args:  "[--metadata URL]",
	short: "the appliance's gateway (PID 1 starts it)",
	doc: "  The appliance's gateway: PID 1 starts and supervises it. It reads its role\n" +
		"  and the site from the Linode Metadata Service.",
	appliance: true,
	run:       cmdGateway,
}

// cmdGateway is the appliance's gateway, which PID 1 starts and supervises.
func cmdGateway(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	url := fs.String("metadata", "", "Metadata Service base `URL` (default http://169.254.169.254)")
	if code, ok := fs.ParseFlags(args, stdout, stderr); !ok {
		return code
	}
	return runGateway(stderr, gateway.Options{MetadataURL: *url, XFRMInterfaces: true, Firewall: true, Sysctls: true})
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
