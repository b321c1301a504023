package gateway

import (
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

func TestTimeline(t *testing.T) {
	t.Setenv(BootMarksEnv, "init=0.812 modules=1.905 bogus =3 x=y neg=-1")
	now := 2 * time.Second
	tl := newTimeline(func() time.Duration { return now }, discard)
	tl.mark("gateway")
	now = 3500 * time.Millisecond
	tl.mark("dhcp")
	tl.mark("gateway") // the first one counts
	want := []status.Milestone{{Name: "init", Seconds: 0.812}, {Name: "modules", Seconds: 1.905}, {Name: "gateway", Seconds: 2}, {Name: "dhcp", Seconds: 3.5}}
	got := tl.snapshot()
	if len(got) != len(want) {
		t.Fatalf("timeline %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: %v, want %v", i, got[i], want[i])
		}
	}

	// Without a boot clock (standalone on a workstation) nothing is kept.
	none := newTimeline(nil, discard)
	none.mark("gateway")
	if s := none.snapshot(); s != nil {
		t.Errorf("timeline without a clock: %v", s)
	}
}
