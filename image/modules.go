package image

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// StageModules writes into dst (lib/modules/<release> of the initramfs) the
// modules listed in list with their dependencies, a modules.dep covering just
// those, the kernel's modules.builtin, and the list itself as
// tidegate.modules for PID 1 to load. It returns the module count.
func StageModules(k *Kernel, list []string, dst string) (int, error) {
	tree := filepath.Dir(filepath.Dir(filepath.Dir(k.Modules))) // the unpacked package root
	if _, err := os.Stat(filepath.Join(k.Modules, "modules.dep")); err != nil {
		if out, err := exec.Command(tool("depmod"), "-b", tree, k.Release).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("depmod: %v: %s", err, out)
		}
	}
	deps, err := readModulesDep(filepath.Join(k.Modules, "modules.dep"))
	if err != nil {
		return 0, err
	}
	byName := make(map[string]string, len(deps))
	for path := range deps {
		byName[moduleName(path)] = path
	}
	builtin, _ := os.ReadFile(filepath.Join(k.Modules, "modules.builtin"))

	need := map[string]bool{}
	var visit func(path string)
	visit = func(path string) {
		if need[path] {
			return
		}
		need[path] = true
		for _, d := range deps[path] {
			visit(d)
		}
	}
	for _, name := range list {
		path, ok := byName[normalize(name)]
		if !ok {
			if bytes.Contains(builtin, []byte("/"+name+".ko")) {
				continue // built in: nothing to ship
			}
			return 0, fmt.Errorf("module %q (image/modules.txt) is neither in %s nor built in", name, k.Pin.Package)
		}
		visit(path)
	}

	var dep bytes.Buffer
	paths := make([]string, 0, len(need))
	for p := range need {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := copyFile(filepath.Join(k.Modules, p), filepath.Join(dst, p)); err != nil {
			return 0, err
		}
		// depmod's format; u-root's kmodule reads "a.ko: " as a dependency
		// on the module directory itself, so no trailing space.
		fmt.Fprintf(&dep, "%s:", p)
		for _, d := range deps[p] {
			fmt.Fprintf(&dep, " %s", d)
		}
		dep.WriteString("\n")
	}
	files := map[string][]byte{
		"modules.dep":      dep.Bytes(),
		"modules.builtin":  builtin,
		"tidegate.modules": []byte(strings.Join(list, "\n") + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return 0, err
		}
	}
	return len(paths), nil
}

// ReadList reads a list file: one item a line, # comments.
func ReadList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, s.Err()
}

func readModulesDep(path string) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
	}
	return deps, nil
}

// moduleName turns kernel/crypto/ghash-generic.ko into ghash_generic.
func moduleName(path string) string {
	base := filepath.Base(path)
	base = base[:strings.Index(base, ".ko")]
	return normalize(base)
}

func normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
