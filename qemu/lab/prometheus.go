package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/services/status"
)

// PrometheusPort is where the lab's Prometheus listens, on the VLAN host's
// address: the Prometheus server's usual port, which the gateways no
// longer use (their status API is on status.Port).
const PrometheusPort = 9090

// RulesFile is the alert rules the lab's Prometheus loads, relative to the
// repository root.
const RulesFile = "configs/prometheus/tidegate.rules.yml"

// PrometheusOptions tune the lab's Prometheus for a lab's minutes rather
// than a site's months.
type PrometheusOptions struct {
	// Interval is how often it scrapes the gateways and evaluates the
	// rules; [2s].
	Interval time.Duration
	// For replaces every rule's for: duration in the lab's copy of the
	// rules, so that an alert fires seconds after its condition holds
	// rather than minutes; [2 × Interval].
	For time.Duration
}

// Prometheus is a Prometheus server (Debian's /usr/bin/prometheus) running
// on the lab's VLAN host, as a site's monitoring host on the VLAN would:
// it scrapes every tidegate gateway's /metrics over the VLAN (job
// "tidegate", with the site and gateway as target labels) and evaluates
// the alert rules of configs/prometheus.
type Prometheus struct {
	// Addr is its HTTP address on the VLAN host (10.0.1.10:9090),
	// reachable from the VLAN host's namespace; Forward makes it
	// reachable from this one.
	Addr netip.AddrPort
	// Dir holds its configuration, the lab's copy of the rules, its
	// TSDB and its log (prometheus.log).
	Dir string

	host *qemu.Netns
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartPrometheus starts a Prometheus on l's VLAN host scraping l's
// tidegate gateways (not those running the seed's stack, which serve no
// tidegate metrics) and waits until it is ready. l.Close stops it.
func StartPrometheus(l *Lab, o PrometheusOptions) (*Prometheus, error) {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.For <= 0 {
		o.For = 2 * o.Interval
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w (the Debian package prometheus has it; make deps installs it)", err)
	}
	p := &Prometheus{
		Addr: netip.AddrPortFrom(HostAddr.Addr(), PrometheusPort),
		Dir:  filepath.Join(l.Dir, "prometheus"),
		host: l.Host,
		done: make(chan struct{}),
	}
	if err := os.MkdirAll(filepath.Join(p.Dir, "data"), 0o755); err != nil {
		return nil, err
	}
	rules, err := os.ReadFile(filepath.Join(qemu.RepoRoot(), RulesFile))
	if err != nil {
		return nil, err
	}
	rulesPath := filepath.Join(p.Dir, "tidegate.rules.yml")
	if err := os.WriteFile(rulesPath, labRules(rules, o.For), 0o644); err != nil {
		return nil, err
	}
	configPath := filepath.Join(p.Dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(prometheusConfig(l, o.Interval, rulesPath)), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(p.Dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	p.cmd = l.Host.Command(bin,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(p.Dir, "data"),
		"--storage.tsdb.retention.time=1d",
		"--web.listen-address="+p.Addr.String(),
	)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := deathsig.Start(p.cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	go func() { p.cmd.Wait(); logFile.Close(); close(p.done) }()
	l.closers = append(l.closers, p.stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := p.get(ctx, "/-/ready"); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("prometheus exited (%v): %s", p.cmd.ProcessState, p.logTail())
		case <-ctx.Done():
			p.stop()
			return nil, fmt.Errorf("prometheus not ready after 30 s: %s", p.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// forLine is a rule's for: duration in the rules file.
var forLine = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+[ \t]*$`)

// labRules is the rules file with every for: set to d: the same
// expressions, labels and annotations as a site runs, on a lab's clock.
func labRules(rules []byte, d time.Duration) []byte {
	return forLine.ReplaceAll(rules, []byte("${1}"+model(d)))
}

// model writes d as a Prometheus duration (whole milliseconds).
func model(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// prometheusConfig scrapes each tidegate gateway of l by its VLAN address
// as the README's example does: job tidegate, the site as a target label,
// and the gateway's name.
func prometheusConfig(l *Lab, interval time.Duration, rulesPath string) string {
	var b strings.Builder
	// A scrape must end before the next is due.
	timeout := max(interval/2, 500*time.Millisecond)
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		model(interval), model(timeout), model(interval))
	fmt.Fprintf(&b, "rule_files:\n  - %q\n", rulesPath)
	b.WriteString("scrape_configs:\n  - job_name: tidegate\n    static_configs:\n")
	for _, g := range l.Gateways {
		if g.seed {
			continue
		}
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {site: %q, gateway: %q}\n",
			netip.AddrPortFrom(g.VLAN.Addr(), status.Port).String(), l.Site.Site, g.Name)
	}
	return b.String()
}

// stop ends Prometheus and waits for it.
func (p *Prometheus) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

func (p *Prometheus) logTail() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "prometheus.log"))
	if len(b) > 2<<10 {
		b = b[len(b)-2<<10:]
	}
	return strings.TrimSpace(string(b))
}

// get fetches path of its HTTP API from the VLAN host.
func (p *Prometheus) get(ctx context.Context, path string) ([]byte, error) {
	return p.host.HTTPGet(ctx, "http://"+p.Addr.String()+path)
}

// Alert is one alert of GET /api/v1/alerts: pending or firing (a resolved
// alert is not listed).
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending, firing
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Name is the alert's alertname.
func (a Alert) Name() string { return a.Labels["alertname"] }

func (a Alert) String() string {
	var labels []string
	for _, k := range []string{"gateway", "instance", "tunnel", "peer", "vrid"} {
		if v, ok := a.Labels[k]; ok {
			labels = append(labels, k+"="+v)
		}
	}
	return fmt.Sprintf("%s{%s} %s", a.Name(), strings.Join(labels, ","), a.State)
}

// Alerts returns the alerts pending and firing now.
func (p *Prometheus) Alerts(ctx context.Context) ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	if err := p.api(ctx, "/api/v1/alerts", &data); err != nil {
		return nil, err
	}
	return data.Alerts, nil
}

// Sample is one series of an instant query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  float64
}

// Query evaluates the PromQL expression q now, which must give an
// instant vector.
func (p *Prometheus) Query(ctx context.Context, q string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"` // [unix time, "value"]
		} `json:"result"`
	}
	if err := p.api(ctx, "/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, want a vector", q, data.ResultType)
	}
	var out []Sample
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		var v float64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return nil, fmt.Errorf("query %s: value %q: %w", q, s, err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// api GETs path of the HTTP API and decodes its data into v.
func (p *Prometheus) api(ctx context.Context, path string, v any) error {
	body, err := p.get(ctx, path)
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	if resp.Status != "success" {
		return fmt.Errorf("prometheus %s: %s %s", path, resp.Status, resp.Error)
	}
	return json.Unmarshal(resp.Data, v)
}

// Forward makes the lab's Prometheus reachable at addr in this process's
// network namespace (tidegate-lab's: the machine's own), passing each
// connection through to the VLAN host, until the lab closes. It returns
// the address it listens on.
func (p *Prometheus) Forward(l *Lab, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	netnstest.Serve(ln, p.pass)
	l.closers = append(l.closers, func() { ln.Close() })
	return ln.Addr(), nil
}

// pass copies c to and from a connection to Prometheus on the VLAN host.
func (p *Prometheus) pass(c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	up, err := p.host.DialContext(ctx, "tcp", p.Addr.String())
	cancel()
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		if tc, ok := up.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		close(done)
	}()
	io.Copy(c, up)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	<-done
}
