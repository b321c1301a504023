package status

import (
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// mCPU is the machine's CPU time, not the gateway process's (process_ has
// that): on an appliance whose data path is the kernel, softirq is where
// forwarding and ESP show, and user is the gateway process and charon.
var mCPU = desc("cpu_seconds_total", "CPU time of the whole machine since boot, summed over its CPUs, by mode (user, nice, system, idle, iowait, irq, softirq, steal): softirq is mostly the data path (forwarding and ESP).", "mode")

// mXfrm is the kernel's IPsec error counters, /proc/net/xfrm_stat (the
// kernel's Documentation/networking/xfrm_proc.rst says what each counts).
// They are where ESP that fails its SA ends: a forged or corrupted packet
// (XfrmInStateProtoError), a replayed one (XfrmInStateSeqError), an
// unknown SPI (XfrmInNoStates). ESP for one of the gateway's SAs is
// decrypted as it is received (GRO, esp4_offload), before the packet
// filter's input rules, so whatever interface it came in on, the SA is
// what refuses it, and these count it.
var mXfrm = desc("xfrm_errors_total", "The kernel's IPsec error counters (/proc/net/xfrm_stat), by the kernel's name: packets dropped because they failed their SA (XfrmInStateProtoError: integrity; XfrmInStateSeqError: replay), named no SA (XfrmInNoStates) or policy, in and out.", "counter")

// procCollector reads the machine's counters from /proc at each scrape:
// /proc/stat and /proc/net/xfrm_stat. A file it cannot read (not Linux,
// no /proc, a kernel without XFRM) serves no series rather than failing
// the scrape.
type procCollector struct{ fs procfs.FS }

func newProcCollector(procRoot string) *procCollector {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return &procCollector{}
	}
	return &procCollector{fs: fs}
}

func (c *procCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mCPU
	ch <- mXfrm
}

func (c *procCollector) Collect(ch chan<- prometheus.Metric) {
	m := emitter(ch)
	if st, err := c.fs.Stat(); err == nil {
		t := st.CPUTotal
		for _, x := range []struct {
			mode string
			v    float64
		}{
			{"user", t.User}, {"nice", t.Nice}, {"system", t.System}, {"idle", t.Idle},
			{"iowait", t.Iowait}, {"irq", t.IRQ}, {"softirq", t.SoftIRQ}, {"steal", t.Steal},
		} {
			m.counter(mCPU, x.v, x.mode)
		}
	}
	if st, err := c.fs.NewXfrmStat(); err == nil {
		// One series per field: procfs names them as the file does.
		v := reflect.ValueOf(st)
		for i := range v.NumField() {
			m.counter(mXfrm, float64(v.Field(i).Int()), v.Type().Field(i).Name)
		}
	}
}
