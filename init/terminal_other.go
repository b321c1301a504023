//go:build !linux

package main

import "os"

// isTerminal is false off Linux: the console shell is the appliance's, and
// elsewhere it ends with its input as when piped.
func isTerminal(*os.File) bool { return false }
