package status

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidegate/tidegate/internal/golden"
)

// metricFixtures are the documents the metrics tests scrape.
var metricFixtures = map[string]func() Document{
	"master": masterDoc, "backup": backupDoc, "configuring": configuringDoc, "active-active": activeActiveDoc,
}

// tidegateLines is the tidegate_ part of a /metrics body: its samples and
// their HELP and TYPE lines, without the client library's go_ and process_.
func tidegateLines(body string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		for _, p := range []string{"tidegate_", "# HELP tidegate_", "# TYPE tidegate_"} {
			if strings.HasPrefix(line, p) {
				b.WriteString(line)
				break
			}
		}
	}
	return b.String()
}

// TestMetricsGolden: every tidegate_ series /metrics serves for each
// fixture, with its help and type, so that a renamed metric or label
// shows up as a diff (go test -update accepts one that was meant).
func TestMetricsGolden(t *testing.T) {
	for name, doc := range metricFixtures {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, Config{Status: doc})
			_, body, _ := get(t, ts.URL+"/metrics")
			golden.Check(t, name+"-metrics.golden", tidegateLines(body))
		})
	}
}

var metricName = regexp.MustCompile(`\btidegate_[a-z0-9_]+`)

// TestMetricNames: MetricNames is exactly what /metrics serves over the
// fixtures (it is what the alert rules' and dashboard's tests check them
// against), sorted.
func TestMetricNames(t *testing.T) {
	served := map[string]bool{}
	for _, doc := range metricFixtures {
		ts := newTestServer(t, Config{Status: doc})
		_, body, _ := get(t, ts.URL+"/metrics")
		for line := range strings.Lines(body) {
			if name, ok := strings.CutPrefix(line, "# TYPE "); ok && strings.HasPrefix(name, "tidegate_") {
				served[strings.Fields(name)[0]] = true
			}
		}
	}
	names := MetricNames()
	if !slices.IsSorted(names) {
		t.Errorf("MetricNames not sorted: %q", names)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for n := range served {
			if !yield(n) {
				return
			}
		}
	}); !slices.Equal(got, names) {
		t.Errorf("/metrics over the fixtures serves\n%q\nMetricNames says\n%q", got, names)
	}
}

// TestMetricsDocumented: every metric is listed in this package's doc and
// in docs/monitoring.md, and no document names a metric that does not
// exist (a rename must carry its documentation along).
func TestMetricsDocumented(t *testing.T) {
	known := map[string]bool{}
	for _, n := range MetricNames() {
		known[n] = true
	}
	root := filepath.Join("..", "..")
	for _, tc := range []struct {
		path  string
		every bool // must list every metric
	}{
		{"doc.go", true},
		{filepath.Join(root, "docs", "monitoring.md"), true},
		{filepath.Join(root, "README.md"), false},
	} {
		b, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		named := map[string]bool{}
		for _, n := range metricName.FindAllString(string(b), -1) {
			named[n] = true
			if !known[n] {
				t.Errorf("%s names %s, which /metrics does not serve", tc.path, n)
			}
		}
		if !tc.every {
			continue
		}
		for _, n := range MetricNames() {
			if !named[n] {
				t.Errorf("%s does not list %s", tc.path, n)
			}
		}
	}
}
