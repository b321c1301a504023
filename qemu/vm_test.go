package qemu

import (
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		err        bool
	}{
		// utime 1234, stime 66 ticks.
		{"qemu", "4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 66 0 0 20 0 3 0 100", 13 * time.Second, false},
		{"spaces and parentheses in the name", "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0", 100 * time.Millisecond, false},
		{"short", "7 (x) R 1 2", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 5 0 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := statCPU(tc.stat)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("statCPU = %v, %v; want %v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}
