package promql

import (
	"slices"
	"testing"
)

func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="tidegate"} == 0`, []string{"up"}},
		{`tidegate_tunnel_up`, []string{"tidegate_tunnel_up"}},
		{`sum by (site, vrid) (tidegate_vrrp_state{state="master"}) > 1`, []string{"tidegate_vrrp_state"}},
		{`max without (tunnel, tunnel_ip_address) (tidegate_tunnel_up) == 0`, []string{"tidegate_tunnel_up"}},
		{
			`tidegate_bgp_peer_up == 0 unless on (instance, peer) label_replace(tidegate_tunnel_up == 0, "peer", "$1", "tunnel", "(.+)")`,
			[]string{"tidegate_bgp_peer_up", "tidegate_tunnel_up"},
		},
		{`tidegate_charon_up == 0 and on (instance) tidegate_phase{phase="running"} == 1`, []string{"tidegate_charon_up", "tidegate_phase"}},
		{`increase(tidegate_charon_restarts_total[15m]) > 1`, []string{"tidegate_charon_restarts_total"}},
		{`rate(tidegate_tunnel_bytes_total{instance=~"$instance", direction="in"}[$__rate_interval]) * 8`, []string{"tidegate_tunnel_bytes_total"}},
		{`time() - tidegate_start_time_seconds{site="${site}"}`, []string{"tidegate_start_time_seconds"}},
		{`aws_vpn_tunnel_state_maximum offset 10m == 0`, []string{"aws_vpn_tunnel_state_maximum"}},
		{`max_over_time(x[5m:30s]) + 1e3 + 0.5 + Inf`, []string{"x"}},
		{`{__name__="tidegate_healthy"}`, nil},
		{`sum(changes(tidegate_vrrp_transitions_total[1h])) by (instance)`, []string{"tidegate_vrrp_transitions_total"}},
		{`tidegate_healthy # the "ok" # {`, []string{"tidegate_healthy"}},
		{`count_values("v", tidegate_build_info)`, []string{"tidegate_build_info"}},
		{`a / ignoring(direction) group_left(tunnel) b`, []string{"a", "b"}},
		// Grafana's label_values(metric, label) is not PromQL: its label
		// reads as a metric, so the dashboard's test takes the first part.
		{`label_values(tidegate_build_info, instance)`, []string{"instance", "tidegate_build_info"}},
	} {
		got, err := Metrics(tc.expr)
		if err != nil {
			t.Errorf("Metrics(%q): %v", tc.expr, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Metrics(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestMetricsErrors(t *testing.T) {
	for _, expr := range []string{`up{job="x"`, `up{job="x}`, `rate(x[5m)`, `sum by (a`, `x{a="b"]`} {
		if got, err := Metrics(expr); err == nil {
			t.Errorf("Metrics(%q) = %q, want an error", expr, got)
		}
	}
}

func TestCheck(t *testing.T) {
	served := []string{"up", "tidegate_tunnel_up"}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`tidegate_tunnel_up == 0 or up == 0`, nil},
		{`vector(1)`, []string{"selects no metric: vector(1)"}},
		{`tidegate_tunnel_up + tidegate_gone + tidegate_lost`, []string{"selects tidegate_gone, which is not served", "selects tidegate_lost, which is not served"}},
	} {
		var got []string
		for _, err := range Check(tc.expr, served) {
			got = append(got, err.Error())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Check(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
	if errs := Check(`up{job="x"`, served); len(errs) != 1 {
		t.Errorf("Check of an open brace = %v, want its scan error", errs)
	}
}
