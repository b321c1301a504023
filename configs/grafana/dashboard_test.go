package grafana

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/internal/promql"
	"github.com/tidegate/tidegate/services/status"
)

const dashboardFile = "tidegate-pair.json"

type panel struct {
	Type       string `json:"type"`
	ID         int    `json:"id"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

// expr is one PromQL expression of the dashboard and where it is.
type expr struct{ where, promql string }

func readDashboard(t *testing.T) (dashboard, []expr) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []expr
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				exprs = append(exprs, expr{fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, a := range d.Annotations.List {
		exprs = append(exprs, expr{fmt.Sprintf("annotation %q", a.Name), a.Expr})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, err := variableQuery(v.Query)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		exprs = append(exprs, expr{fmt.Sprintf("variable %s", v.Name), q})
	}
	return d, exprs
}

// labelValues is Grafana's label_values(SELECTOR, LABEL), which is not
// PromQL: its selector is.
var labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*\w+\s*\)\s*$`)

// variableQuery is a query variable's PromQL: the query is a string or
// {"query": "..."}.
func variableQuery(raw json.RawMessage) (string, error) {
	var q string
	if err := json.Unmarshal(raw, &q); err != nil {
		var obj struct{ Query string }
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", err
		}
		q = obj.Query
	}
	if m := labelValues.FindStringSubmatch(q); m != nil {
		return m[1], nil
	}
	return q, nil
}

// TestDashboardSelectsServedMetrics: every expression selects metrics
// the status API serves (or Prometheus's up), and at least one.
func TestDashboardSelectsServedMetrics(t *testing.T) {
	served := append(status.MetricNames(), "up")
	_, exprs := readDashboard(t)
	if len(exprs) == 0 {
		t.Fatal("no expressions in the dashboard")
	}
	for _, e := range exprs {
		for _, err := range promql.Check(e.promql, served) {
			t.Errorf("%s: %v, served: status.MetricNames", e.where, err)
		}
	}
}

// TestDashboardCovers: the dashboard shows what a pair's operator needs:
// tunnels and their traffic, BGP sessions, VRRP state over time and
// failovers, reachability and health.
func TestDashboardCovers(t *testing.T) {
	_, exprs := readDashboard(t)
	var all []string
	for _, e := range exprs {
		names, _ := promql.Metrics(e.promql)
		all = append(all, names...)
	}
	for _, want := range []string{
		"up", "tidegate_healthy", "tidegate_tunnel_up", "tidegate_tunnel_bytes_total",
		"tidegate_bgp_peer_up", "tidegate_vrrp_state", "tidegate_vrrp_transitions_total",
		"tidegate_bgp_return_path_held",
	} {
		if !slices.Contains(all, want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// TestDashboardWellFormed: what Grafana needs to import it and draw each
// panel from the chosen data source.
func TestDashboardWellFormed(t *testing.T) {
	d, _ := readDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q uid %q, want both", d.Title, d.UID)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Contains(vars, "datasource") || !slices.Contains(vars, "site") {
		t.Errorf("variables %q, want datasource and site", vars)
	}
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, ok := ids[p.ID]; ok {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.Title == "" {
				t.Errorf("panel %d has no title", p.ID)
			}
			if p.Type != "row" {
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
}

// grafanaVar is a dashboard variable or Grafana's own ($__rate_interval).
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// TestDashboardPromQLParses has promtool check every expression, with
// Grafana's variables given values, as the expression of a recording rule.
func TestDashboardPromQLParses(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (%v): it comes with the Debian package prometheus, which make deps installs (apt-get install prometheus)", err)
	}
	_, exprs := readDashboard(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q := grafanaVar.ReplaceAllStringFunc(e.promql, func(v string) string {
			if strings.Contains(v, "__") && strings.Contains(v, "interval") {
				return "1m"
			}
			return ".*"
		})
		js, _ := json.Marshal(q) // a JSON string is a YAML string
		fmt.Fprintf(&b, "      - record: dashboard:expr%d\n        expr: %s\n", i, js)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the dashboard's expressions: %v\n%s\n%s", err, out, b.String())
	}
}
