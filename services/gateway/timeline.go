package gateway

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

// The boot timeline: when each step from power-on to a working gateway
// happened, as time since the kernel booted (Options.Uptime), on the
// console ("boot timeline" lines) and in /status (Document.Boot), so that a
// slow boot shows where its seconds went. PID 1's own steps (init started,
// kernel modules loaded) come in the environment (BootMarksEnv); the
// gateway marks the rest:
//
//	gateway       the gateway process runs
//	dhcp          eth0 has its lease (appliance)
//	metadata      the site configuration and role are known
//	firewall      the full packet filter is installed
//	services      IPsec, BGP and VRRP start
//	charon        charon answers on VICI (its connections are loaded next)
//	tunnel        the first tunnel is up (a CHILD_SA installed)
//	aws paths     BGP has its first best path from AWS
//	vrrp backup / vrrp master   the first VRRP role
//
// Each is marked once, by its first occurrence: a restarted gateway
// process starts a new timeline (its "gateway" mark is late, and says so).

// BootMarksEnv is the environment variable in which PID 1 hands its marks
// to the gateway: "name=seconds" pairs separated by spaces, e.g.
// "init=0.812 modules=1.905".
const BootMarksEnv = "TIDEGATE_BOOT_MARKS"

type timeline struct {
	since func() time.Duration // nil: no boot clock, nothing recorded
	log   *slog.Logger

	mu    sync.Mutex
	marks []status.Milestone
}

func newTimeline(since func() time.Duration, log *slog.Logger) *timeline {
	tl := &timeline{since: since, log: log}
	if since == nil {
		return tl
	}
	for _, f := range strings.Fields(os.Getenv(BootMarksEnv)) {
		name, v, ok := strings.Cut(f, "=")
		s, err := strconv.ParseFloat(v, 64)
		if ok && err == nil && name != "" && s >= 0 {
			tl.marks = append(tl.marks, status.Milestone{Name: name, Seconds: s})
		}
	}
	return tl
}

// mark records name at the current time since boot, the first time only,
// and logs it.
func (tl *timeline) mark(name string) {
	if tl == nil || tl.since == nil {
		return
	}
	since := tl.since()
	at := since.Seconds()
	tl.mu.Lock()
	for _, m := range tl.marks {
		if m.Name == name {
			tl.mu.Unlock()
			return
		}
	}
	tl.marks = append(tl.marks, status.Milestone{Name: name, Seconds: at})
	tl.mu.Unlock()
	tl.log.Info("boot timeline", "step", name, "since_boot", since.Round(time.Millisecond))
}

// snapshot returns the marks in the order they happened.
func (tl *timeline) snapshot() []status.Milestone {
	if tl == nil {
		return nil
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if len(tl.marks) == 0 {
		return nil
	}
	return append([]status.Milestone(nil), tl.marks...)
}
