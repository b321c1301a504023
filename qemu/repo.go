package qemu

import (
	"os"
	"path/filepath"
	"strings"
)

// Image is the disk image tests boot: $TIDEGATE_IMAGE or out/tidegate.img
// at the repository root.
func Image() string {
	if p := os.Getenv("TIDEGATE_IMAGE"); p != "" {
		return p
	}
	return filepath.Join(RepoRoot(), "out", "tidegate.img")
}

// ExampleSite is the site YAML of configs/examples/name with each old
// string of oldnew replaced by the new one after it (strings.NewReplacer's
// pairs): a test's or the lab's copy of an example, moved onto addresses
// its guests answer on, without writing the site out again.
func ExampleSite(name string, oldnew ...string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "configs", "examples", name))
	if err != nil {
		return nil, err
	}
	return []byte(strings.NewReplacer(oldnew...).Replace(string(b))), nil
}

// RepoRoot is the repository root: the nearest directory up from the
// working directory that holds go.mod ("." when there is none).
func RepoRoot() string {
	wd, _ := os.Getwd()
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	return "."
}
