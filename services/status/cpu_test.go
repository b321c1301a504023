package status

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCPUCollector: /proc/stat's first line, in USER_HZ ticks, becomes
// seconds by mode.
func TestCPUCollector(t *testing.T) {
	want := `
# HELP tidegate_cpu_seconds_total CPU time of the whole machine since boot, summed over its CPUs, by mode (user, nice, system, idle, iowait, irq, softirq, steal): softirq is mostly the data path (forwarding and ESP).
# TYPE tidegate_cpu_seconds_total counter
tidegate_cpu_seconds_total{mode="idle"} 980
tidegate_cpu_seconds_total{mode="iowait"} 0.12
tidegate_cpu_seconds_total{mode="irq"} 0.03
tidegate_cpu_seconds_total{mode="nice"} 0.05
tidegate_cpu_seconds_total{mode="softirq"} 4.5
tidegate_cpu_seconds_total{mode="steal"} 0.07
tidegate_cpu_seconds_total{mode="system"} 3.4
tidegate_cpu_seconds_total{mode="user"} 12
`
	if err := testutil.CollectAndCompare(newCPUCollector("testdata/proc"), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestCPUCollectorNoProc: without a readable /proc the scrape still works,
// with no CPU series.
func TestCPUCollectorNoProc(t *testing.T) {
	if n := testutil.CollectAndCount(newCPUCollector("testdata/no-such-proc")); n != 0 {
		t.Errorf("%d series without /proc, want 0", n)
	}
}
