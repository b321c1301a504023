package status

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestProcCollectorCPU: /proc/stat's first line, in USER_HZ ticks,
// becomes seconds by mode.
func TestProcCollectorCPU(t *testing.T) {
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
	if err := testutil.CollectAndCompare(newProcCollector("testdata/proc"), strings.NewReader(want), "tidegate_cpu_seconds_total"); err != nil {
		t.Error(err)
	}
}

// TestProcCollectorXfrm: each of /proc/net/xfrm_stat's 28 counters is a
// series, labelled with the kernel's name for it.
func TestProcCollectorXfrm(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newProcCollector("testdata/proc"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "tidegate_xfrm_errors_total" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if len(got) != 28 {
		t.Errorf("%d series, want the file's 28: %v", len(got), got)
	}
	for counter, want := range map[string]float64{
		"XfrmInNoStates": 3, "XfrmInStateProtoError": 12, "XfrmInStateSeqError": 5, "XfrmOutNoStates": 7, "XfrmAcquireError": 0,
	} {
		if v, ok := got[counter]; !ok || v != want {
			t.Errorf("counter %q = %v (present %v), want %v", counter, v, ok, want)
		}
	}
}

// TestProcCollectorNoProc: without a readable /proc the scrape still
// works, with no series.
func TestProcCollectorNoProc(t *testing.T) {
	if n := testutil.CollectAndCount(newProcCollector("testdata/no-such-proc")); n != 0 {
		t.Errorf("%d series without /proc, want 0", n)
	}
}
