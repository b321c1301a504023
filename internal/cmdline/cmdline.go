package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Exit codes.
const (
	OK    = 0 // done
	Fail  = 1 // the command ran and failed
	Usage = 2 // the command line was wrong
)

// FlagSet is one command's flags and usage.
type FlagSet struct {
	*flag.FlagSet
	// Name is the command as typed ("tidegate render").
	Name string
	// Synopsis is the usage line(s) after "usage: ", and Doc what follows
	// them before the flags; both may be empty.
	Synopsis, Doc string
	required      []string
	// The positional arguments: how many (max -1: any number) and what
	// one is; see Positional.
	minPos, maxPos int
	posName        string
}

// New returns an empty FlagSet for the command name ("tidegate render").
func New(name, synopsis, doc string) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), Name: name, Synopsis: synopsis, Doc: doc, maxPos: -1}
	// Parse reports errors through its return value only; Parse here
	// prints them with the usage.
	fs.FlagSet.SetOutput(io.Discard)
	fs.FlagSet.Usage = func() {}
	return fs
}

// Require marks flags that must be given: Parse fails without them, and the
// usage says "(required)".
func (fs *FlagSet) Require(names ...string) {
	for _, n := range names {
		if fs.Lookup(n) == nil {
			panic("cmdline: Require of undefined flag " + n)
		}
	}
	fs.required = append(fs.required, names...)
}

// Positional says how many positional arguments the command takes, from
// min to max (max -1: any number), and what one is ("site configuration
// FILE"): Parse fails when their count is off, with a message that says
// what to give. Without it a command takes any number.
func (fs *FlagSet) Positional(min, max int, what string) {
	fs.minPos, fs.maxPos, fs.posName = min, max, what
}

// Parse parses args, flags and positional arguments mixed, and returns the
// positional ones. When the command should stop here it returns ok false
// and the exit code: OK after printing the usage for -h on stdout, Usage
// after printing the problem and the usage on stderr: a flag that is
// wrong, a required one not given, or the wrong number of positional
// arguments (see Positional).
func (fs *FlagSet) Parse(args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	for {
		err := fs.FlagSet.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.PrintUsage(stdout)
			return nil, OK, false
		}
		if err != nil {
			return nil, fs.Fail(stderr, "%v", err), false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range fs.required {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, fs.Fail(stderr, "%s is required", missing[0]), false
	default:
		return nil, fs.Fail(stderr, "%s are required", strings.Join(missing, " and ")), false
	}
	n := len(pos)
	switch {
	case fs.maxPos == 0 && n > 0:
		return nil, fs.Fail(stderr, "unexpected argument %q", pos[0]), false
	case fs.minPos == fs.maxPos && n != fs.minPos:
		return nil, fs.Fail(stderr, "give %s %s (got %d)", count(fs.minPos), fs.posName, n), false
	case n < fs.minPos:
		return nil, fs.Fail(stderr, "give at least %s %s", count(fs.minPos), fs.posName), false
	case fs.maxPos >= 0 && n > fs.maxPos:
		return nil, fs.Fail(stderr, "give at most %s %s (got %d)", count(fs.maxPos), fs.posName, n), false
	}
	return pos, OK, true
}

// count spells the small numbers the usage errors use.
func count(n int) string {
	if n >= 1 && n <= 3 {
		return [...]string{"one", "two", "three"}[n-1]
	}
	return strconv.Itoa(n)
}

// ParseFlags is Parse for a command that takes flags only: a positional
// argument is a usage error.
func (fs *FlagSet) ParseFlags(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.Positional(0, 0, "")
	_, code, ok = fs.Parse(args, stdout, stderr)
	return code, ok
}

// Fail prints a usage error, "NAME: message", and the usage to w, and
// returns Usage.
func (fs *FlagSet) Fail(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, "%s: %s\n", fs.Name, fmt.Sprintf(format, args...))
	fs.PrintUsage(w)
	return Usage
}

// PrintUsage writes the synopsis, the description and the flags to w.
func (fs *FlagSet) PrintUsage(w io.Writer) {
	if fs.Synopsis != "" {
		fmt.Fprintf(w, "usage: %s\n", fs.Synopsis)
	}
	if fs.Doc != "" {
		fmt.Fprint(w, strings.TrimRight(fs.Doc, "\n")+"\n")
	}
	fs.PrintFlags(w)
}

// PrintFlags lists the flags to w, two dashes each (one for a one-letter
// flag):
//
//	--name NAME
//	      the gateway's name (required)
func (fs *FlagSet) PrintFlags(w io.Writer) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(w, "\nflags:")
			first = false
		}
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name // -o FILE, as such flags are usually typed
		}
		if arg != "" {
			line += " " + strings.ToUpper(arg)
		}
		fmt.Fprintln(w, line)
		if !isZero(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		if slices.Contains(fs.required, f.Name) {
			usage += " (required)"
		}
		fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(usage, "\n", "\n      "))
	})
}

// isZero says whether f's default is its type's zero value, which the
// usage leaves out.
func isZero(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "[]":
		return true
	}
	return false
}
