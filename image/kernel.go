package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// KernelPin is the content of kernel.lock.
type KernelPin struct {
	Package, Version, SHA256 string
}

// ReadKernelPin parses kernel.lock: "key value" lines, # comments.
func ReadKernelPin(path string) (KernelPin, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KernelPin{}, err
	}
	var p KernelPin
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			return p, fmt.Errorf("%s:%d: want \"key value\"", path, n)
		}
		switch k {
		case "package":
			p.Package = v
		case "version":
			p.Version = v
		case "sha256":
			p.SHA256 = v
		default:
			return p, fmt.Errorf("%s:%d: unknown key %q", path, n, k)
		}
	}
	if p.Package == "" || p.Version == "" || len(p.SHA256) != 64 {
		return p, fmt.Errorf("%s: needs package, version and a sha256", path)
	}
	return p, nil
}

// Kernel is an unpacked kernel package.
type Kernel struct {
	Pin     KernelPin
	Release string // uname -r, e.g. 6.1.0-56-amd64
	VMLinuz string
	Modules string // lib/modules/<release> inside the unpacked tree
}

// FetchKernel downloads the pinned package into cache (once), checks its
// sha256 and unpacks it. apt-get download needs no root, only current
// package lists.
func FetchKernel(pin KernelPin, cache string) (*Kernel, error) {
	deb := filepath.Join(cache, fmt.Sprintf("%s_%s_amd64.deb", pin.Package, strings.ReplaceAll(pin.Version, ":", "%3a")))
	if _, err := os.Stat(deb); err != nil {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return nil, err
		}
		cmd := exec.Command("apt-get", "download", pin.Package+"="+pin.Version)
		cmd.Dir = cache
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("the Debian archive does not serve the pinned kernel %s=%s (it keeps only the newest security update); run `make kernel-pin` to move the pin, then commit image/kernel.lock:\n%s", pin.Package, pin.Version, out)
		}
	}
	sum, err := fileSHA256(deb)
	if err != nil {
		return nil, err
	}
	if sum != pin.SHA256 {
		return nil, fmt.Errorf("%s: sha256 %s, but image/kernel.lock pins %s: refusing a kernel that is not the pinned one", deb, sum, pin.SHA256)
	}
	tree := filepath.Join(cache, "kernel-"+pin.Version)
	if _, err := os.Stat(filepath.Join(tree, ".done")); err != nil {
		os.RemoveAll(tree)
		if out, err := exec.Command("dpkg-deb", "-x", deb, tree).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("unpacking %s: %v: %s", deb, err, out)
		}
		if err := os.WriteFile(filepath.Join(tree, ".done"), nil, 0o644); err != nil {
			return nil, err
		}
	}
	release := strings.TrimPrefix(pin.Package, "linux-image-")
	k := &Kernel{
		Pin:     pin,
		Release: release,
		VMLinuz: filepath.Join(tree, "boot", "vmlinuz-"+release),
		Modules: filepath.Join(tree, "lib", "modules", release),
	}
	if _, err := os.Stat(k.VMLinuz); err != nil {
		return nil, fmt.Errorf("kernel package %s has no %s", pin.Package, k.VMLinuz)
	}
	return k, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
