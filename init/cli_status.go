package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/services/status"
)

var statusCommand = command{
	name: "status",
	args: "[--json] ADDRESS",
	short: "a running gateway's state, from its VLAN address\n" +
		"or its status socket",
	doc: fmt.Sprintf("  Prints a running gateway's tunnels, BGP, VRRP and routes, as its console's\n"+
		"  show commands do. ADDRESS is the gateway's VLAN address (port %d unless\n"+
		"  given: 10.0.1.2, 10.0.1.2:%d) or the path of its status socket (%s).",
		status.Port, status.Port, status.DefaultSocket),
	run: cmdStatus,
}

// cmdStatus fetches a gateway's status document and prints the console
// shell's tables (show status, tunnels, bgp, vrrp, routes), or the JSON.
func cmdStatus(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	asJSON := fs.Bool("json", false, "print the status document as JSON")
	fs.Positional(1, 1, "ADDRESS")
	pos, code, ok := fs.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	c, err := status.NewClient(pos[0])
	if err != nil {
		return fs.Fail(stderr, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(d)
	} else {
		err = status.WriteAll(stdout, d)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	return cmdline.OK
}
