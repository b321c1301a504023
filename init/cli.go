package main

// The command line: the operator's sub-commands (validate, import-aws,
// render, linode, status), which run on a workstation (Linux or macOS) and
// need none of the services' processes, one file each (cli_*.go); the
// appliance's own (gateway, shell, a standalone gateway), Linux only; and
// version and help. Every command follows internal/cmdline's conventions
// and takes its arguments and writers, so that tests run it in-process.

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/services/gateway"
)

// commands are the sub-commands by name, besides version and help.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"validate":   cmdValidate,
	"import-aws": cmdImportAWS,
	"render":     cmdRender,
	"linode":     cmdLinode,
	"status":     cmdStatus,
	"gateway":    cmdGateway,
	"shell":      runShell,
}

const usage = `usage: tidegate COMMAND [arguments] [flags]

Workstation commands (Linux and macOS):
  validate FILE...                 check site configurations as the gateway does
  import-aws VPN1 VPN2 --gateway NAME1 --gateway NAME2 [-o FILE]
                                   write a site configuration from AWS's two VPN
                                   connections (CustomerGatewayConfiguration XML,
                                   or describe-vpn-connections JSON)
  render FILE --name NAME          show what gateway NAME would run (secrets masked)
  linode upload|deploy|reimage|rolling-reimage [flags]
                                   deploy on Linode (API token in LINODE_TOKEN)
  status [--json] ADDRESS          a running gateway's state, from its VLAN address
                                   or its status socket
  version                          print the version (also --version)
  help [COMMAND]                   this text, or a command's (also -h, --help)

The gateway (Linux):
  tidegate --config FILE --name NAME [--run-dir DIR]
                                   run one gateway of a site from a file
  gateway [--metadata URL]         the appliance's gateway (PID 1 starts it)
  shell [--socket PATH]            the read-only console shell (PID 1 starts it)

"tidegate COMMAND -h" shows a command's flags.
`

// run is the command line's dispatch: the sub-commands, version and help,
// or else a standalone gateway's flags.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cmdline.Usage
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "tidegate %s\n", versionString())
		return cmdline.OK
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if cmd, ok := commands[args[1]]; ok {
				return cmd([]string{"--help"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "tidegate help: no command %q\n", args[1])
			fmt.Fprint(stderr, usage)
			return cmdline.Usage
		}
		fmt.Fprint(stdout, usage)
		return cmdline.OK
	}
	if cmd, ok := commands[args[0]]; ok {
		return cmd(args[1:], stdout, stderr)
	}
	if !strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "tidegate: no command %q\n", args[0])
		fmt.Fprint(stderr, usage)
		return cmdline.Usage
	}
	return cmdStandalone(args, stdout, stderr)
}

// cmdStandalone runs one gateway of a site from a file, on any Linux
// machine or in a network namespace.
func cmdStandalone(args []string, stdout, stderr io.Writer) int {
	fs := cmdline.New("tidegate", "tidegate --config FILE --name NAME [--run-dir DIR]",
		"  Runs one gateway of a site from a file, without the Metadata Service or\n"+
			"  PID 1's duties (Linux, root). \"tidegate help\" lists the other commands.")
	cfg := fs.String("config", "", "site configuration `file` (YAML)")
	name := fs.String("name", "", "this gateway's `name` in the configuration's gateways list")
	runDir := fs.String("run-dir", "", "runtime `directory` for charon's files (default /run/tidegate)")
	fs.Require("config", "name")
	if code, ok := fs.ParseFlags(args, stdout, stderr); !ok {
		return code
	}
	if !applianceOS(stderr) {
		return cmdline.Fail
	}
	return runGateway(gateway.Options{ConfigFile: *cfg, Name: *name, RunDir: *runDir})
}

// cmdGateway is the appliance's gateway, which PID 1 starts and supervises.
func cmdGateway(args []string, stdout, stderr io.Writer) int {
	fs := cmdline.New("tidegate gateway", "tidegate gateway [--metadata URL]",
		"  The appliance's gateway: PID 1 starts and supervises it. It reads its role\n"+
			"  and the site from the Linode Metadata Service.")
	url := fs.String("metadata", "", "Metadata Service base `URL` (default http://169.254.169.254)")
	if code, ok := fs.ParseFlags(args, stdout, stderr); !ok {
		return code
	}
	if !applianceOS(stderr) {
		return cmdline.Fail
	}
	return runGateway(gateway.Options{MetadataURL: *url, XFRMInterfaces: true, Firewall: true, Sysctls: true})
}

// applianceOS says whether a gateway can run here, and why not if not: it
// needs Linux's XFRM, netlink and nftables. The workstation commands build
// for macOS too.
func applianceOS(stderr io.Writer) bool {
	if runtime.GOOS == "linux" {
		return true
	}
	fmt.Fprintf(stderr, "tidegate: a gateway runs on Linux only; on %s tidegate has the workstation commands (tidegate help)\n", runtime.GOOS)
	return false
}

// versionString is the version the image build stamped (git describe), or
// for a plain go build, "dev" and the commit Go recorded.
func versionString() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return version
	}
	return version + " (" + rev + dirty + ")"
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

var _ flag.Value = (*listFlag)(nil)
