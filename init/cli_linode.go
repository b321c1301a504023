package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/tidegate/tidegate/scripts/linode"
	"github.com/tidegate/tidegate/services/status"
)

// cmdLinode runs the Linode deployment commands (scripts/linode); Ctrl-C
// cancels the API calls in flight. rolling-reimage asks each gateway's
// /healthz, which answers on the public address only to status.allow's
// networks; otherwise the workstation must reach the VLAN (--status
// NAME=ADDRESS).
func cmdLinode(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &linode.CLI{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Health: status.HealthClient{}}
	return c.Run(ctx, args)
}
