package seedstack

import (
	"testing"

	"github.com/tidegate/tidegate/qemu/guest"
)

// records returns the names in an initramfs.
func records(t *testing.T, path string) map[string]bool {
	t.Helper()
	recs, err := guest.ReadArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[r.Name] = true
	}
	return have
}
