// Package prometheus holds tidegate's Prometheus alert rules,
// tidegate.rules.yml, and their unit tests, tidegate.rules.test.yml; it has
// no Go code besides its tests, which run promtool on both files (check
// rules, test rules) and check that every metric the rules select is one
// the status API serves (status.MetricNames), so that renaming a metric
// breaks them here rather than silently in production. docs/monitoring.md
// describes the rules; the lab (qemu/lab, StartPrometheus) loads them into
// a real Prometheus.
package prometheus
