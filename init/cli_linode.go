package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/scripts/linode"
	"github.com/tidegate/tidegate/services/status"
)

// linodeCommand has its own sub-commands, each with its flags and usage
// (scripts/linode's CLI), so it leaves the FlagSet it is given unused.
var linodeCommand = command{
	name:  "linode",
	args:  "upload|deploy|reimage|rolling-reimage [flags]",
	short: "deploy on Linode (API token in LINODE_TOKEN)",
	run:   cmdLinode,
}

// cmdLinode runs the Linode deployment commands (scripts/linode); Ctrl-C
// cancels the API calls in flight. rolling-reimage asks each gateway's
// /healthz, which answers on the public address only to status.allow's
// networks; otherwise the workstation must reach the VLAN (--status
// NAME=ADDRESS).
func cmdLinode(_ *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &linode.CLI{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Health: status.HealthClient{}}
	return c.Run(ctx, args)
}
