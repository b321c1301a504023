//go:build !linux

package firewall

import (
	"errors"
	"fmt"
)

// nftables is Linux's. On other systems (a workstation running `tidegate
// render`) the package builds for its configuration; installing fails.
var errNotLinux = errors.New("firewall: nftables needs Linux")

// Install fails: nftables is Linux's.
func Install(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	return errNotLinux
}

// Counters fails: nftables is Linux's.
func Counters() (map[string]uint64, error) { return nil, errNotLinux }
