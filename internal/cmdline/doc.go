// Package cmdline holds the conventions every tidegate sub-command follows,
// so that they behave as the command-line tools an operator already knows:
//
//   - -h, -help and --help print the command's usage on standard output
//     and exit 0;
//   - a usage error (an unknown flag, a missing argument, a required flag
//     not given) prints what is wrong and then the usage on standard error,
//     and exits 2; a command that ran and failed exits 1;
//   - flags may come after the positional arguments (tidegate render
//     site.yaml --name vpn-gw-1), and "--" ends the flags;
//   - flags are shown with two dashes (one for a one-letter flag such as
//     -o), with their value's name, and the required ones say so (Go's flag
//     package takes one dash or two alike).
//
// It wraps the standard library's flag.FlagSet rather than replacing it.
package cmdline
