// Command mkimage builds out/tidegate.img.gz (see package image). It needs
// no root: `make image` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tidegate/tidegate/image"
)

func main() {
	out := flag.String("out", "out", "output `directory`")
	repo := flag.String("repo", ".", "repository `root`")
	version := flag.String("version", "dev", "version stamped into the image (git describe)")
	flag.Parse()

	start := time.Now()
	r, err := image.Build(image.Options{Repo: *repo, Out: *out, Version: *version})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Printf("tidegate %s built in %s\n", *version, time.Since(start).Round(100*time.Millisecond))
	for _, f := range []struct{ what, path string }{
		{"kernel", r.Kernel},
		{"initramfs (lz4)", r.Initramfs},
		{"disk image (raw)", r.Image},
		{"disk image (gzip)", r.ImageGz},
	} {
		fi, err := os.Stat(f.path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(1)
		}
		fmt.Printf("  %-18s %7.1f MiB  %s\n", f.what, float64(fi.Size())/(1<<20), f.path)
	}
	fmt.Printf("  manifest: %s\n", r.Manifest)
}
