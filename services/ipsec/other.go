//go:build !linux

package ipsec

import (
	"errors"
	"syscall"

	"github.com/tidegate/tidegate/configs"
)

// The service drives charon and XFRM interfaces, which are Linux's. On
// other systems (a workstation running `tidegate render`) the package
// builds for its configuration types and helpers; running it fails.
var errNotLinux = errors.New("ipsec: charon and XFRM interfaces need Linux")

func charonAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

func privateRun(string) error { return errNotLinux }

func ensureInterfaces([]configs.Tunnel, string, bool) error { return errNotLinux }

func flushXFRM() error { return errNotLinux }
