package status

import (
	"fmt"
	"io"
)

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
