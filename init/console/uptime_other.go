//go:build !linux

package console

import "time"

// uptime is unknown off Linux, which the appliance always runs: the
// console package builds elsewhere for the workstation commands' logging.
func uptime() time.Duration { return 0 }
