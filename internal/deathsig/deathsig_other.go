//go:build !linux

package deathsig

import "os/exec"

// Start starts cmd. Only Linux has a parent-death signal; elsewhere (the
// packages that use Start are vetted on macOS) the child may outlive this
// process.
func Start(cmd *exec.Cmd) error { return cmd.Start() }
