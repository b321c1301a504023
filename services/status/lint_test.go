package status

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// lintCollector runs promlint, the checker of Prometheus's naming
// conventions, on what a collector gathers. (testutil.CollectAndLint does
// the same but pulls in more modules.)
func lintCollector(c prometheus.Collector) ([]promlint.Problem, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	return promlint.NewWithMetricFamilies(mfs).Lint()
}
