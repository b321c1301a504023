//go:build !linux

package pid1

import (
	"fmt"
	"os"
)

// Main is process 1 of the Linux appliance only. The workstation commands
// build elsewhere (macOS), where this binary is never process 1; if it is,
// it says so rather than doing half of PID 1's duties.
func Main(gateway, shell []string) {
	fmt.Fprintln(os.Stderr, "tidegate: process 1 duties need Linux")
	os.Exit(1)
}
