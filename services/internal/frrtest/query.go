package frrtest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Path is one path of `show bgp ipv4 unicast PREFIX json`.
type Path struct {
	ASPath struct {
		String string `json:"string"`
	} `json:"aspath"`
	Med      uint32 `json:"metric"`
	Bestpath struct {
		Overall bool `json:"overall"`
	} `json:"bestpath"`
	Nexthops []struct {
		IP string `json:"ip"`
	} `json:"nexthops"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// Paths returns bgpd's paths for prefix by the neighbour that sent them,
// and which neighbour's path is best ("" if none).
func (f *FRR) Paths(prefix string) (map[string]Path, string, error) {
	out, err := f.Vtysh("show bgp ipv4 unicast " + prefix + " json")
	if err != nil {
		return nil, "", err
	}
	var v struct {
		Paths []Path `json:"paths"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
		return nil, "", fmt.Errorf("parse %s: %w", out, err)
	}
	m := make(map[string]Path)
	best := ""
	for _, p := range v.Paths {
		m[p.Peer.PeerID] = p
		if p.Bestpath.Overall {
			best = p.Peer.PeerID
		}
	}
	return m, best, nil
}

// Sessions returns bgpd's BGP session states by neighbour address.
func (f *FRR) Sessions() (map[string]string, error) {
	out, err := f.Vtysh("show bgp ipv4 unicast summary json")
	if err != nil {
		return nil, err
	}
	var v struct {
		Peers map[string]struct {
			State string `json:"state"`
		} `json:"peers"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse %s: %w", out, err)
	}
	m := make(map[string]string)
	for a, p := range v.Peers {
		m[a] = p.State
	}
	return m, nil
}
