package status

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

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
	if h := d.Health; h != nil {
		total := 0
		if d.IPsec != nil {
			total = len(d.IPsec.Tunnels)
		}
		state := "healthy"
		if !h.Healthy {
			state = fmt.Sprintf("UNHEALTHY (VRRP priority %+d)", h.VRRPWeight)
		}
		row(t, "Health", fmt.Sprintf("%s: %d AWS %s, %d of %d tunnels up", state, h.AWSPaths, english.Plural(h.AWSPaths, "path"), h.TunnelsUp, total))
	}
	for _, r := range []struct {
		name string
		v    *VRRP
	}{{"VRRP", d.VRRP}, {"VRRP (peer's)", d.PeerVRRP}} {
		v := r.v
		if v == nil {
			continue
		}
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
		row(t, r.name, s)
	}
	if b := d.BGP; b != nil {
		est := 0
		for _, p := range b.Peers {
			if p.State == "established" {
				est++
			}
		}
		s := fmt.Sprintf("%d of %d sessions established, %d %s in the kernel", est, len(b.Peers), b.RoutesInstalled, english.Plural(b.RoutesInstalled, "route"))
		if b.Running && !b.Master {
			s += ", prepending toward AWS"
		}
		if !b.Running {
			s = "not running"
		}
		row(t, "BGP", s)
		if b.ReturnPath != nil {
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

// WriteTunnels prints the IPsec tunnels (`show tunnels`), like VyOS's
// `show vpn ipsec sa`.
func WriteTunnels(w io.Writer, d *Document) error {
	s := d.IPsec
	if s == nil {
		return notRunning(w, d, "tunnels")
	}
	fmt.Fprintf(w, "charon %s\n", charon(d))
	if s.NetworkError != "" {
		fmt.Fprintf(w, "network setup: %s\n", s.NetworkError)
	}
	fmt.Fprintln(w)
	t := table(w)
	row(t, "Tunnel", "State", "Uptime", "Bytes In/Out", "Packets In/Out", "Remote", "IKE SA", "CHILD SA", "Rekeys")
	for _, tn := range s.Tunnels {
		state, up := "down", "-"
		if tn.Up {
			state = "up"
			if !tn.Established.IsZero() {
				up = ago(d.Time, tn.Established)
			}
		}
		row(t, tn.Name, state, up,
			size(tn.BytesIn)+"/"+size(tn.BytesOut),
			fmt.Sprintf("%d/%d", tn.PacketsIn, tn.PacketsOut),
			tn.Remote, dash(tn.IKEState), dash(tn.ChildState),
			fmt.Sprintf("%d/%d", tn.IKERekeys, tn.ChildRekeys))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, tn := range s.Tunnels {
		switch {
		case tn.Up && (tn.IKEProposal != "" || tn.ESPProposal != ""):
			notes = append(notes, fmt.Sprintf("%s (%s): IKE %s, ESP %s", tn.Name, dash(tn.Interface), dash(tn.IKEProposal), dash(tn.ESPProposal)))
		case !tn.Up:
			n := tn.Name + " (" + dash(tn.Interface) + "): down"
			if !tn.Since.IsZero() {
				n += " since " + clock(d.Time, tn.Since)
			}
			if tn.Reason != "" {
				n += ": " + tn.Reason
			}
			if tn.LastEvent != "" {
				n += "; last event " + tn.LastEvent
			}
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	_, err := fmt.Fprintln(w, "\nRekeys are IKE/CHILD; counters since the gateway started.")
	return err
}

// bgpStates are FRR's spellings of the session states.
var bgpStates = map[string]string{
	"idle": "Idle", "connect": "Connect", "active": "Active",
	"opensent": "OpenSent", "openconfirm": "OpenConfirm", "established": "Established",
}

// WriteBGP prints the BGP sessions (`show bgp`), like FRR's
// `show ip bgp summary`.
func WriteBGP(w io.Writer, d *Document) error {
	b := d.BGP
	if b == nil {
		return notRunning(w, d, "BGP")
	}
	if !b.Running {
		fmt.Fprintln(w, "BGP speaker not running")
	} else if b.Master {
		fmt.Fprintln(w, "BGP speaker running; VRRP master: announcing to AWS without prepending")
	} else {
		fmt.Fprintln(w, "BGP speaker running; VRRP backup: prepending its AS path toward AWS")
	}
	fmt.Fprintf(w, "Routes in the kernel %d, best paths to AWS over own tunnels %d\n", b.RoutesInstalled, b.AWSPaths)
	if b.MaxPrefixes > 0 {
		fmt.Fprintf(w, "Maximum prefixes per neighbor %d\n", b.MaxPrefixes)
	}
	if rp := b.ReturnPath; rp != nil {
		fmt.Fprintf(w, "Return path %s\n", returnPath(d))
		if rp.PeerIgnored {
			s := "iBGP peer's paths ignored (peer silent)"
			if !rp.PeerIgnoredSince.IsZero() {
				s += " since " + clock(d.Time, rp.PeerIgnoredSince)
			}
			fmt.Fprintln(w, s)
		}
	}
	fmt.Fprintln(w)
	t := table(w)
	row(t, "Neighbor", "AS", "Up/Down", "State/PfxRcd", "PfxAcc", "PfxSnt", "Desc")
	for _, p := range b.Peers {
		updown := "never"
		if p.UptimeSeconds > 0 {
			updown = uptime(p.UptimeSeconds)
		}
		state, acc, snt := "", "", ""
		if p.State == "established" {
			state, acc, snt = fmt.Sprint(p.Received), fmt.Sprint(p.Accepted), fmt.Sprint(p.Advertised)
		} else {
			state = bgpStates[p.State]
			if state == "" {
				state = p.State
			}
			switch {
			case !p.RetryAt.IsZero():
				state += " (PfxCt)" // FRR's mark of a max-prefix teardown
			case p.AdminDown:
				state += " (Admin)"
			}
		}
		desc := p.Name
		if p.Name == "ibgp" && d.Peer != "" {
			desc = "ibgp " + d.Peer
		}
		row(t, p.Address, fmt.Sprint(p.ASN), updown, state, acc, snt, desc)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nTotal number of neighbors %d\n", len(b.Peers))
	return writeRefusals(w, d)
}

// writeRefusals prints, a line each, the routes a neighbor sends that the
// import filter refuses and its max-prefix teardowns: nothing for a
// neighbor with neither.
func writeRefusals(w io.Writer, d *Document) error {
	var notes []string
	for _, p := range d.BGP.Peers {
		if c := counts(p.Rejected); c != "" {
			notes = append(notes, p.Name+" rejected: "+c)
		}
		if p.MaxPrefixTeardowns == 0 && p.RetryAt.IsZero() {
			continue
		}
		n := fmt.Sprintf("%s torn down %d times for max-prefix", p.Name, p.MaxPrefixTeardowns)
		if p.MaxPrefixTeardowns == 1 {
			n = p.Name + " torn down once for max-prefix"
		}
		if d.BGP.MaxPrefixes > 0 {
			n += fmt.Sprintf(" %d", d.BGP.MaxPrefixes)
		}
		if !p.RetryAt.IsZero() {
			if wait := p.RetryAt.Sub(d.Time); wait > 0 {
				n += "; retry in " + span(wait)
			} else {
				n += "; retry due"
			}
		}
		notes = append(notes, n)
	}
	if len(notes) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	return err
}

// WriteVRRP prints the virtual router (`show vrrp`), and in an
// active-active pair then the router of the peer's virtual IP.
func WriteVRRP(w io.Writer, d *Document) error {
	if d.VRRP == nil {
		return notRunning(w, d, "VRRP")
	}
	if d.PeerVRRP == nil {
		return writeRouter(w, d, d.VRRP)
	}
	for i, r := range []struct {
		title string
		v     *VRRP
	}{{"This gateway's virtual IP", d.VRRP}, {"The peer's virtual IP", d.PeerVRRP}} {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (VRID %d)\n", r.title, r.v.VRID)
		if err := writeRouter(w, d, r.v); err != nil {
			return err
		}
	}
	return nil
}

func writeRouter(w io.Writer, d *Document, v *VRRP) error {
	t := table(w)
	state := strings.ToUpper(v.State)
	if !v.LastChangeAt.IsZero() {
		state += " since " + clock(d.Time, v.LastChangeAt)
	}
	if v.LastChange != "" {
		state += ": " + v.LastChange
	}
	row(t, "State", state)
	if v.Resigning {
		row(t, "Handover", "planned handover under way (advertising priority 0)")
	}
	prio := fmt.Sprint(v.Priority)
	if v.EffectivePriority != v.Priority || len(v.Tracks) > 0 {
		prio += fmt.Sprintf(", effective %d", v.EffectivePriority)
		names := make([]string, 0, len(v.Tracks))
		for n := range v.Tracks {
			names = append(names, n)
		}
		sort.Strings(names)
		var tr []string
		for _, n := range names {
			tr = append(tr, fmt.Sprintf("track %s %+d", n, v.Tracks[n]))
		}
		prio += paren(strings.Join(tr, ", "))
	}
	row(t, "Priority", prio)
	if v.MasterAddress != "" {
		m := fmt.Sprintf("%s, priority %d", v.MasterAddress, v.MasterPriority)
		if p, err := netip.ParsePrefix(d.VLANAddress); err == nil && p.Addr().String() == v.MasterAddress {
			m += " (this gateway)"
		} else if d.Peer != "" {
			m += " (" + d.Peer + ")"
		}
		row(t, "Master", m)
	} else {
		row(t, "Master", "none heard")
	}
	// The only source whose adverts count (package vrrp).
	switch {
	case v.PeerAddress != "" && v.PeerLearned:
		row(t, "Peer", v.PeerAddress+" (learned)")
	case v.PeerAddress != "":
		row(t, "Peer", v.PeerAddress+" (configured)")
	default:
		row(t, "Peer", "not known yet (learned from its first valid advert)")
	}
	row(t, "Virtual IPs", dash(strings.Join(v.VirtualIPs, " ")))
	row(t, "Transitions", fmt.Sprint(v.Transitions))
	row(t, "Advertisements", fmt.Sprintf("sent %d, received %d", v.AdvertsSent, v.AdvertsReceived))
	if c := counts(v.Drops); c != "" {
		row(t, "Dropped", c)
	}
	return t.Flush()
}

// counts prints a map of counters as "name n, name n" in name order,
// leaving out the zeros: "" when all are.
func counts[N int | uint64](m map[string]N) string {
	var out []string
	for _, k := range sortedKeys(m) {
		if m[k] != 0 {
			out = append(out, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(out, ", ")
}

// WriteRoutes prints the routes BGP installed in the kernel (`show routes`):
// those the Document lists (the first MaxRoutes by prefix on a large
// table), and how many there are in all.
func WriteRoutes(w io.Writer, d *Document) error {
	if d.RoutesError != "" {
		_, err := fmt.Fprintf(w, "Kernel routes unavailable: %s\n", d.RoutesError)
		return err
	}
	if len(d.Routes) == 0 {
		_, err := fmt.Fprintln(w, "No BGP routes in the kernel.")
		return err
	}
	t := table(w)
	row(t, "Prefix", "Next hop", "Interface", "Metric", "Weight")
	for _, r := range d.Routes {
		for i, nh := range r.NextHops {
			prefix, metric := r.Prefix, fmt.Sprint(r.Metric)
			if i > 0 {
				prefix, metric = "", ""
			}
			weight := ""
			if len(r.NextHops) > 1 {
				weight = fmt.Sprint(max(nh.Weight, 1))
			}
			row(t, prefix, dash(nh.Gateway), dash(nh.Interface), metric, weight)
		}
		if len(r.NextHops) == 0 {
			row(t, r.Prefix, "-", "-", fmt.Sprint(r.Metric), "")
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}
	total := max(d.RoutesTotal, len(d.Routes))
	if total > len(d.Routes) {
		_, err := fmt.Fprintf(w, "\n%d %s installed by BGP (protocol bgp, main table),\nof which the first %d by prefix are shown\n",
			total, english.Plural(total, "route"), len(d.Routes))
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d %s installed by BGP (protocol bgp, main table)\n", total, english.Plural(total, "route"))
	return err
}

// tbl is a table of aligned columns, two spaces apart, whose lines never
// end in spaces (a column left empty at the end of a row would leave them).
type tbl struct {
	w   io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func table(w io.Writer) *tbl {
	t := &tbl{w: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
	return t
}

func row(t *tbl, cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the table.
func (t *tbl) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for line := range strings.Lines(t.buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	t.buf.Reset()
	_, err := io.WriteString(t.w, out.String())
	return err
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// uptime prints seconds as FRR prints a peer's up/down time: hh:mm:ss under
// a day, 1d02h03m under a week, 02w3d04h beyond.
func uptime(secs float64) string {
	d := time.Duration(secs) * time.Second
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	const day, week = 86400, 7 * 86400
	switch {
	case s < day:
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	case s < week:
		return fmt.Sprintf("%dd%02dh%02dm", s/day, s%day/3600, s%3600/60)
	}
	return fmt.Sprintf("%02dw%dd%02dh", s/week, s%week/day, s%day/3600)
}

// span prints a short wait, to the second: "25s", "2m05s", "1h02m".
func span(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// ago is the time from then to now, as uptime prints it.
func ago(now, then time.Time) string { return uptime(now.Sub(then).Seconds()) }

// clock prints a past time as the clock time (UTC, as the console logs) and
// how long ago: "20:01:02 UTC, 00:12:00 ago".
func clock(now, then time.Time) string {
	layout := "15:04:05"
	if now.Sub(then) >= 24*time.Hour {
		layout = "2006-01-02 15:04"
	}
	return then.UTC().Format(layout) + " UTC, " + ago(now, then) + " ago"
}

// size prints a byte count in 1024 steps with one decimal, as VyOS does.
func size(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%c", f, units[i])
}
