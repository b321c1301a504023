package status

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// mCPU is the machine's CPU time, not the gateway process's (process_ has
// that): on an appliance whose data path is the kernel, softirq is where
// forwarding and ESP show, and user is the gateway process and charon.
var mCPU = desc("cpu_seconds_total", "CPU time of the whole machine since boot, summed over its CPUs, by mode (user, nice, system, idle, iowait, irq, softirq, steal): softirq is mostly the data path (forwarding and ESP).", "mode")

// cpuCollector reads /proc/stat at each scrape. A /proc it cannot read
// (not Linux, no /proc) serves no series rather than failing the scrape.
type cpuCollector struct{ fs procfs.FS }

func newCPUCollector(procRoot string) *cpuCollector {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return &cpuCollector{}
	}
	return &cpuCollector{fs: fs}
}

func (c *cpuCollector) Describe(ch chan<- *prometheus.Desc) { ch <- mCPU }

func (c *cpuCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.fs.Stat()
	if err != nil {
		return
	}
	t := st.CPUTotal
	for _, m := range []struct {
		mode string
		v    float64
	}{
		{"user", t.User}, {"nice", t.Nice}, {"system", t.System}, {"idle", t.Idle},
		{"iowait", t.Iowait}, {"irq", t.IRQ}, {"softirq", t.SoftIRQ}, {"steal", t.Steal},
	} {
		ch <- prometheus.MustNewConstMetric(mCPU, prometheus.CounterValue, m.v, m.mode)
	}
}
