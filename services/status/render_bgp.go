package status

import (
	"fmt"
	"io"
	"strings"
)

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
