package qemu

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/tidegate/tidegate/qemu/seedstack"
)

// SeedStackOptions describe a guest running the seed article's stack
// (package seedstack) in a namespace, with eth0 and eth1 on TAP devices of
// the namespace as a gateway of the lab has.
type SeedStackOptions struct {
	Name    string
	Netns   *Netns
	NICs    []NIC // eth0 (public), eth1 (VLAN)
	Config  seedstack.Config
	MemMiB  int // [512], as a tidegate gateway of the lab
	LogFile string
	Console io.Writer
	// Disk is the guest's disk; when it does not exist yet it is built
	// there for Config (seedstack.BuildDisk), so a reboot reuses it.
	Disk  string
	Build seedstack.Options
}

// SeedStack is a running seed-stack guest: its serial console is a root
// shell once it is ready (see Shell).
type SeedStack struct {
	*VM
}

// StartSeedStack boots a seed-stack gateway from its disk, as tidegate's
// image is booted (SeaBIOS, GRUB from the disk). The caller must Kill it.
func StartSeedStack(o SeedStackOptions) (*SeedStack, error) {
	if o.Disk == "" {
		return nil, fmt.Errorf("seed stack %s: no disk path", o.Name)
	}
	if _, err := os.Stat(o.Disk); err != nil {
		if err := seedstack.BuildDisk(o.Build, o.Config, o.Disk); err != nil {
			return nil, err
		}
	}
	vm, err := Start(Options{
		Name: o.Name, Netns: o.Netns, NICs: o.NICs, MemMiB: o.MemMiB, Image: o.Disk,
		LogFile: o.LogFile, Console: o.Console,
	})
	if err != nil {
		return nil, err
	}
	return &SeedStack{VM: vm}, nil
}

var seedReady = regexp.MustCompile(`seedstack: ready at ([0-9.]+) s`)

// WaitReady waits for the init's "ready" line (charon has its connections,
// zebra, bgpd and keepalived run) and returns the guest's uptime then. A
// step of the init that failed is an error.
func (s *SeedStack) WaitReady(ctx context.Context) (time.Duration, error) {
	m, _, err := s.WaitFor(ctx, 0, seedReady)
	if err != nil {
		return 0, err
	}
	if failed := regexp.MustCompile(`seedstack: .* failed`).FindString(s.Console()); failed != "" {
		return 0, fmt.Errorf("%s: %s", s.Name, failed)
	}
	sec, _ := strconv.ParseFloat(seedReady.FindStringSubmatch(m)[1], 64)
	return time.Duration(sec * float64(time.Second)), nil
}

// ShellOK runs cmd on the guest's console once it is ready: nothing is
// typed while its shell is still starting, when a line can lose its
// beginning.
func (s *SeedStack) ShellOK(ctx context.Context, cmd string) (string, error) {
	if _, err := s.WaitReady(ctx); err != nil {
		return "", err
	}
	return s.VM.ShellOK(ctx, cmd)
}
