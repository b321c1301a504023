package main

// The command line: the operator's sub-commands (validate, import-aws,
// render, linode, status), which run on a workstation (Linux or macOS) and
// need none of the services' processes, one file each (cli_*.go); the
// appliance's own, Linux only (gateway and a standalone gateway in
// gateway.go, shell in shell.go); and version and help. Each is a command
// value beside its run function, which `tidegate help` lists; every one
// follows internal/cmdline's conventions and takes its arguments and
// writers, so that tests run it in-process.

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/tidegate/tidegate/internal/cmdline"
)

// A command is one of tidegate's sub-commands, and the one place its
// synopsis and help live: `tidegate help` lists the commands from here, and
// run gets a FlagSet whose usage says the same (cmd/go's base.Command is the
// model). run defines the command's flags, parses args with them and runs.
type command struct {
	name      string // as typed after "tidegate"; "" for a standalone gateway
	args      string // the synopsis after the name
	short     string // its line in `tidegate help` (lines may follow)
	doc       string // what `tidegate help NAME` prints before the flags
	appliance bool   // the gateway's own (Linux), not a workstation command
	run       func(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int
}

// commands lists the sub-commands in the order `tidegate help` shows them;
// version and help, which run handles itself, have no run function.
var commands = []command{
	validateCommand,
	importAWSCommand,
	renderCommand,
	linodeCommand,
	statusCommand,
	{name: "version", short: "print the version (also --version)"},
	{name: "help", args: "[COMMAND]", short: "this text, or a command's (also -h, --help)"},
	standaloneCommand,
	gatewayCommand,
	shellCommand,
}

// lookup returns the command typed as name, version and help aside.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name && c.run != nil {
			return c, true
		}
	}
	return command{}, false
}

// synopsis is the command line the command's usage shows.
func (c command) synopsis() string {
	return strings.Join(slices.DeleteFunc([]string{"tidegate", c.name, c.args}, func(s string) bool { return s == "" }), " ")
}

// exec runs the command on args with a fresh FlagSet.
func (c command) exec(args []string, stdout, stderr io.Writer) int {
	name := strings.TrimSpace("tidegate " + c.name)
	return c.run(cmdline.New(name, c.synopsis(), c.doc), args, stdout, stderr)
}

// usage is `tidegate help`: the commands, each with its synopsis and its
// short line, the workstation ones first.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: tidegate COMMAND [arguments] [flags]\n")
	for _, sec := range []struct {
		title     string
		appliance bool
	}{{"Workstation commands (Linux and macOS):", false}, {"The gateway (Linux):", true}} {
		fmt.Fprintf(&b, "\n%s\n", sec.title)
		for _, c := range commands {
			if c.appliance != sec.appliance {
				continue
			}
			line := c.synopsis() // a standalone gateway's in full
			if c.name != "" {
				line = strings.TrimPrefix(line, "tidegate ")
			}
			// The short line starts 35 characters in, at least two
			// spaces after the synopsis, or below a long one.
			const column = 35
			if len(line) > column-4 {
				fmt.Fprintf(&b, "  %s\n%s", line, strings.Repeat(" ", column))
			} else {
				fmt.Fprintf(&b, "  %-*s", column-2, line)
			}
			b.WriteString(strings.ReplaceAll(c.short, "\n", "\n"+strings.Repeat(" ", column)) + "\n")
		}
	}
	b.WriteString("\n\"tidegate COMMAND -h\" shows a command's flags.\n")
	return b.String()
}

// run is the command line's dispatch: the sub-commands, version and help,
// or else a standalone gateway's flags.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return cmdline.Usage
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "tidegate %s\n", versionString())
		return cmdline.OK
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if c, ok := lookup(args[1]); ok {
				return c.exec([]string{"--help"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "tidegate help: no command %q\n", args[1])
			fmt.Fprint(stderr, usage())
			return cmdline.Usage
		}
		fmt.Fprint(stdout, usage())
		return cmdline.OK
	}
	if c, ok := lookup(args[0]); ok && c.name != "" {
		return c.exec(args[1:], stdout, stderr)
	}
	if !strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "tidegate: no command %q\n", args[0])
		fmt.Fprint(stderr, usage())
		return cmdline.Usage
	}
	return standaloneCommand.exec(args, stdout, stderr)
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
