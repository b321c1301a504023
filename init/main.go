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
// on macOS, are in cli_*.go, one file each; the gateway commands are in
// gateway.go, and the console shell (`tidegate shell`, which PID 1 runs on
// /dev/console) is in shell.go. `tidegate help` lists them all, `tidegate
// COMMAND -h` their flags.
//
// MPTCP stays off (see go.mod): BGP needs IP_TTL and TCP_MD5SIG on its
// listener. The directive repeats it for builds outside module mode.
//
//go:debug multipathtcp=0
package main

import (
	"os"

	"github.com/tidegate/tidegate/init/pid1"
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
