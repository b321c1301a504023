package seedstack

import (
	"os"
	"testing"

	"github.com/u-root/mkuimage/cpio"
)

// records returns the names in a newc archive.
func records(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[r.Name] = true
	}
	return have
}
