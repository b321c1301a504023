package status

import (
	"fmt"
	"io"
	"strings"

	"github.com/tidegate/tidegate/internal/english"
)

// The Write functions print a Document as the console shell's and
// `tidegate status`'s tables: aligned columns in the spirit of FRR's and
// VyOS's show commands, short enough for an 80-column serial console. Every
// time is computed against Document.Time, so a document renders the same
// wherever it is read.

// WriteAll prints every table: what `tidegate status ADDRESS` shows.
func WriteAll(w io.Writer, d *Document) error {
	sections := []func(io.Writer, *Document) error{WriteStatus, WriteTunnels, WriteBGP, WriteVRRP, WriteRoutes}
	for i, f := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := f(w, d); err != nil {
			return err
		}
	}
	return nil
}

// WriteStatus prints the overview (`show status`).
func WriteStatus(w io.Writer, d *Document) error {
	t := table(w)
	name := d.Gateway
	if name == "" {
		name = "(not configured yet)"
	}
	var about []string
	if d.Site != "" {
		about = append(about, "site "+d.Site)
	}
	if d.Peer != "" {
		about = append(about, "peer "+d.Peer)
	}
	row(t, "Gateway", name+paren(strings.Join(about, ", ")))
	row(t, "Version", join(d.Version, d.Mode))
	row(t, "Phase", d.Phase+phaseNote(d)+", up "+uptime(d.UptimeSeconds))
	bootRows(t, d.Boot)
	if d.VLANAddress != "" || d.PublicAddress != "" {
		var a []string
		if d.VLANAddress != "" {
			a = append(a, "VLAN "+d.VLANAddress)
		}
		if d.PublicAddress != "" {
			a = append(a, "public "+d.PublicAddress)
		}
		row(t, "Addresses", strings.Join(a, ", "))
	}
	if d.Error != "" {
		row(t, "Error", d.Error)
	}
	if d.Health != nil {
		row(t, "Health", health(d))
	}
	if d.VRRP != nil {
		row(t, "VRRP", vrrpSummary(d.VRRP))
	}
	if d.PeerVRRP != nil {
		row(t, "VRRP (peer's)", vrrpSummary(d.PeerVRRP))
	}
	if d.BGP != nil {
		row(t, "BGP", bgpSummary(d.BGP))
		if d.BGP.ReturnPath != nil {
			row(t, "Return path", returnPath(d))
		}
	}
	if s := d.IPsec; s != nil {
		row(t, "charon", charon(d))
		if s.NetworkError != "" {
			row(t, "Network", s.NetworkError)
		}
	}
	if f := d.Firewall; f != nil {
		s := "nothing dropped"
		if c := counts(f.Dropped); c != "" {
			s = "dropped " + c
		}
		row(t, "Firewall", s)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	return writeConfigErrors(w, d)
}

// bootRows show the seconds since the kernel booted, step by step: where a
// slow boot spent its time. They wrap to fit an 80-column console.
func bootRows(t *tbl, boot []Milestone) {
	if len(boot) == 0 {
		return
	}
	label, line := "Boot (s)", ""
	for i, m := range boot {
		step := fmt.Sprintf("%s %.1f", m.Name, m.Seconds)
		if i < len(boot)-1 {
			step += ","
		}
		if line != "" && len(line)+1+len(step) > 64 {
			row(t, label, line)
			label, line = "", ""
		}
		line = strings.TrimSpace(line + " " + step)
	}
	row(t, label, line)
}

// health is whether the gateway has a path to AWS, and how many.
func health(d *Document) string {
	h, total := d.Health, 0
	if d.IPsec != nil {
		total = len(d.IPsec.Tunnels)
	}
	state := "healthy"
	if !h.Healthy {
		state = fmt.Sprintf("UNHEALTHY (VRRP priority %+d)", h.VRRPWeight)
	}
	return fmt.Sprintf("%s: %d AWS %s, %d of %d tunnels up", state, h.AWSPaths, english.Plural(h.AWSPaths, "path"), h.TunnelsUp, total)
}

// vrrpSummary is a virtual router's state in one line.
func vrrpSummary(v *VRRP) string {
	s := fmt.Sprintf("%s, priority %d", v.State, v.Priority)
	if v.EffectivePriority != v.Priority {
		s += fmt.Sprintf(" (effective %d)", v.EffectivePriority)
	}
	if len(v.VirtualIPs) > 0 {
		s += ", virtual IP " + strings.Join(v.VirtualIPs, " ")
	}
	if v.Resigning {
		s += ", handing over"
	}
	return s
}

// bgpSummary is the speaker's sessions and routes in one line.
func bgpSummary(b *BGP) string {
	if !b.Running {
		return "not running"
	}
	est := 0
	for _, p := range b.Peers {
		if p.State == "established" {
			est++
		}
	}
	s := fmt.Sprintf("%d of %d sessions established, %d %s in the kernel", est, len(b.Peers), b.RoutesInstalled, english.Plural(b.RoutesInstalled, "route"))
	if !b.Master {
		s += ", prepending toward AWS"
	}
	return s
}

func phaseNote(d *Document) string {
	switch d.Phase {
	case "configuring":
		return " (waiting for a valid configuration)"
	case "stopping":
		return " (planned handover)"
	}
	return ""
}

func writeConfigErrors(w io.Writer, d *Document) error {
	if len(d.ConfigErrors) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nConfiguration errors in the user data (%d); the gateway polls the Metadata\nService and picks up a corrected site YAML without a reboot:\n", len(d.ConfigErrors))
	for _, e := range d.ConfigErrors {
		_, err := fmt.Fprintf(w, "  %s\n", e)
		if err != nil {
			return err
		}
	}
	return nil
}

func charon(d *Document) string {
	s := d.IPsec
	if !s.CharonRunning {
		return fmt.Sprintf("not running, %d %s", s.CharonRestarts, english.Plural(s.CharonRestarts, "restart"))
	}
	parts := []string{"running"}
	if s.CharonPID != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", s.CharonPID))
	}
	if s.CharonVersion != "" {
		parts = append(parts, s.CharonVersion)
	}
	if !s.CharonStarted.IsZero() {
		parts = append(parts, "up "+ago(d.Time, s.CharonStarted))
	}
	parts = append(parts, fmt.Sprintf("%d %s", s.CharonRestarts, english.Plural(s.CharonRestarts, "restart")))
	return strings.Join(parts, ", ")
}

func returnPath(d *Document) string {
	rp := d.BGP.ReturnPath
	s := "held with more-specifics"
	if !rp.Since.IsZero() {
		s += " since " + clock(d.Time, rp.Since)
	}
	if len(rp.Prefixes) > 0 {
		s += ": " + strings.Join(rp.Prefixes, " ")
	}
	return s
}

// notRunning prints why a section has nothing to show.
func notRunning(w io.Writer, d *Document, what string) error {
	msg := "the gateway is " + d.Phase
	switch d.Phase {
	case "configuring", "starting":
		msg = "gateway waiting for configuration"
	}
	_, err := fmt.Fprintf(w, "No %s: %s.\n", what, msg)
	if err != nil {
		return err
	}
	return writeConfigErrors(w, d)
}
