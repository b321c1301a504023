package main

import (
	"runtime/debug"
	"testing"

	"github.com/tidegate/tidegate/services/bgp"
)

func TestMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	if got := setMemoryLimit(func(string) string { return "" }); got != bgp.MemoryLimit || debug.SetMemoryLimit(-1) != bgp.MemoryLimit {
		t.Errorf("limit %d (runtime %d), want bgp.MemoryLimit %d", got, debug.SetMemoryLimit(-1), bgp.MemoryLimit)
	}
	debug.SetMemoryLimit(old)
	if got := setMemoryLimit(func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }); got != old {
		t.Errorf("with GOMEMLIMIT set: limit %d, want the runtime's %d left alone", got, old)
	}
}
