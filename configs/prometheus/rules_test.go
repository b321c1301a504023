package prometheus

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tidegate/tidegate/internal/promql"
	"github.com/tidegate/tidegate/services/status"
)

const (
	rulesFile = "tidegate.rules.yml"
	testsFile = "tidegate.rules.test.yml"
)

// promtool returns the path of Debian's promtool (package prometheus, which
// make deps installs). A missing promtool fails the test rather than
// skipping it: the rules would go unchecked without anyone noticing.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (%v): it comes with the Debian package prometheus, which make deps installs (apt-get install prometheus)", err)
	}
	return path
}

// TestPromtool runs promtool's own checks of the rules (syntax, PromQL,
// templates) and the unit tests next to them; either failing fails.
func TestPromtool(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", rulesFile},
		{"test", "rules", testsFile},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// Rule is one alerting rule of tidegate.rules.yml.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []Rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []Rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return rules
}

// TestRulesSelectServedMetrics: every metric a rule selects is one the
// status API serves, or Prometheus's own up.
func TestRulesSelectServedMetrics(t *testing.T) {
	served := append(status.MetricNames(), "up")
	for _, r := range readRules(t) {
		for _, err := range promql.Check(r.Expr, served) {
			t.Errorf("%s: %v, served: status.MetricNames", r.Alert, err)
		}
	}
}

// TestRulesComplete: each alert says how bad it is and what it means, and
// has a unit test in tidegate.rules.test.yml.
func TestRulesComplete(t *testing.T) {
	tests, err := os.ReadFile(testsFile)
	if err != nil {
		t.Fatal(err)
	}
	var tf struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(tests, &tf); err != nil {
		t.Fatalf("%s: %v", testsFile, err)
	}
	fires := map[string]bool{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range readRules(t) {
		if r.Alert == "" {
			t.Errorf("a rule that is not an alert: %s", r.Expr)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("%s twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: no summary or description", r.Alert)
		}
		if !fires[r.Alert] {
			t.Errorf("%s: no test in %s sees it fire", r.Alert, testsFile)
		}
	}
}
