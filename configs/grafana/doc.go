// Package grafana holds tidegate's Grafana dashboard for a gateway pair,
// tidegate-pair.json (import it in Grafana, pick the Prometheus data source
// and the site): the gateways, VRRP state over time and failovers, each
// tunnel's state and traffic, the BGP sessions, and what the gateways
// refuse. It has no Go code besides its test, which checks that every
// PromQL expression in the dashboard parses (promtool) and selects only
// metrics the status API serves (status.MetricNames), so that renaming a
// metric breaks the test instead of emptying a panel.
package grafana
