package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/cmdline"
	"github.com/tidegate/tidegate/internal/english"
)

var validateCommand = command{
	name:  "validate",
	args:  "FILE...",
	short: "check site configurations as the gateway does",
	doc: "  Checks each site configuration as a gateway does when it reads its user data,\n" +
		"  and prints every problem with its file, line and key path.",
	run: cmdValidate,
}

// cmdValidate runs the gateway's own validation (configs.Load) on each file
// and prints every problem on its own line.
func cmdValidate(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	fs.Positional(1, -1, "site configuration FILE")
	files, code, ok := fs.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	code = cmdline.OK
	for _, f := range files {
		site, err := configs.Load(f)
		if err != nil {
			code = cmdline.Fail
			// configs.Errors prints one problem per line, each with the
			// file, line and key path.
			fmt.Fprintln(stderr, err)
			continue
		}
		gws := make([]string, len(site.Gateways))
		for i, g := range site.Gateways {
			gws[i] = fmt.Sprintf("%s (%d %s)", g.Name, len(g.Tunnels), english.Plural(len(g.Tunnels), "tunnel"))
		}
		prefix := ""
		if len(files) > 1 {
			prefix = f + ": "
		}
		fmt.Fprintf(stdout, "%sok: site %s, gateways %s\n", prefix, site.Site, strings.Join(gws, ", "))
	}
	return code
}
