package status

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
)

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
