package pid1

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"
)

// ModuleList names the file, inside /lib/modules/$(uname -r), that lists the
// modules to load at boot, one name per line. The image builder writes it
// together with a modules.dep that covers exactly those modules and their
// dependencies.
const ModuleList = "tidegate.modules"

// loadModules loads every module named in the image's module list, with its
// dependencies from modules.dep. Missing modules are errors but never stop
// the others from loading. A module that refuses this machine (ENODEV: the
// CPU lacks the AES or SHA instructions it drives) is skipped, not an
// error: the kernel's generic code does that work instead.
func loadModules() (loaded int, skipped []string, err error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, nil, fmt.Errorf("uname: %w", err)
	}
	dir := filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	names, err := readModuleList(filepath.Join(dir, ModuleList))
	if err != nil {
		return 0, nil, err
	}
	prober, err := kmodule.NewProber(kmodule.ProbeOpts{})
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s/modules.dep: %w", dir, err)
	}
	var errs []error
	for _, name := range names {
		err := prober.Probe(name, "")
		switch {
		case errors.Is(err, unix.ENODEV):
			skipped = append(skipped, name)
		case err != nil:
			errs = append(errs, fmt.Errorf("module %s: %w", name, err))
		default:
			loaded++
		}
	}
	return loaded, skipped, errors.Join(errs...)
}

func readModuleList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("module list: %w", err)
	}
	defer f.Close()
	var names []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names = append(names, line)
	}
	return names, s.Err()
}
