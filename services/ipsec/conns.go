package ipsec

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
)

// ifID returns the tunnel's XFRM if_id: the inside /30's position inside
// its /16 (169.254.0.0/16 for AWS), plus one since 0 means "none". configs
// keeps inside CIDRs unique, so the ids are unique, and they do not move
// when tunnels are reordered, added or removed, or when the gateway
// restarts and finds its interfaces already there.
func ifID(t configs.Tunnel) uint32 {
	a := t.InsideCIDR.Masked().Addr().As4()
	return (uint32(a[2])<<8|uint32(a[3]))>>2 + 1
}

// InterfaceFor returns the name and if_id of the tunnel's XFRM interface:
// "xfrm<if_id>" (at most 9 characters, whatever the tunnel's name). The BGP
// service routes through it; the interface's alias is the tunnel's name.
func InterfaceFor(t configs.Tunnel) (name string, id uint32) {
	id = ifID(t)
	return fmt.Sprintf("xfrm%d", id), id
}

// Rekey margins, as fractions of the configured lifetimes (which are the
// hard limits AWS enforces): charon rekeys between 85% and 90% of the
// lifetime, early enough that a rekey colliding with AWS's own (AWS rekeys
// 270-540 s before its phase 2 lifetime by default) still completes.
const (
	rekeyAt   = 0.90
	rekeyRand = 0.05
)

func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }

// conn is a load-conn message's connection section.
type conn struct {
	Version     int      `vici:"version"`
	LocalAddrs  []string `vici:"local_addrs"`
	RemoteAddrs []string `vici:"remote_addrs"`
	Proposals   []string `vici:"proposals"`
	// Neither end moves; AWS does not do MOBIKE.
	Mobike      bool                 `vici:"mobike"`
	DPDDelay    string               `vici:"dpd_delay"`
	DPDTimeout  string               `vici:"dpd_timeout"` // IKEv1 only
	RekeyTime   string               `vici:"rekey_time"`
	OverTime    string               `vici:"over_time"`
	RandTime    string               `vici:"rand_time"`
	KeyingTries int                  `vici:"keyingtries"`
	Unique      string               `vici:"unique"`
	IfIDIn      string               `vici:"if_id_in"`
	IfIDOut     string               `vici:"if_id_out"`
	Local       authSection          `vici:"local"`
	Remote      authSection          `vici:"remote"`
	Children    map[string]childConn `vici:"children"`
}

type authSection struct {
	Auth string `vici:"auth"`
	ID   string `vici:"id"`
}

type childConn struct {
	LocalTS      []string `vici:"local_ts"`
	RemoteTS     []string `vici:"remote_ts"`
	ESPProposals []string `vici:"esp_proposals"`
	RekeyTime    string   `vici:"rekey_time"`
	LifeTime     string   `vici:"life_time"`
	RandTime     string   `vici:"rand_time"`
	Mode         string   `vici:"mode"`
	StartAction  string   `vici:"start_action"`
	DPDAction    string   `vici:"dpd_action"`
	CloseAction  string   `vici:"close_action"`
	IfIDIn       string   `vici:"if_id_in"`
	IfIDOut      string   `vici:"if_id_out"`
}

// connFor builds the load-conn message for one tunnel. The connection, its
// one CHILD_SA and the shared key all carry the tunnel's name.
func connFor(t configs.Tunnel, local netip.Addr) (*vici.Message, error) {
	id := fmt.Sprint(ifID(t))
	c := conn{
		Version:     t.IKEVersion,
		RemoteAddrs: []string{t.OutsideAddress.String()},
		Proposals:   t.Proposals,
		DPDDelay:    seconds(t.DPDDelay),
		RekeyTime:   seconds(time.Duration(float64(t.IKELifetime) * rekeyAt)),
		OverTime:    seconds(time.Duration(float64(t.IKELifetime) * (1 - rekeyAt))),
		RandTime:    seconds(time.Duration(float64(t.IKELifetime) * rekeyRand)),
		// 0: retry for ever. A gateway that comes up before AWS's side is
		// configured meets NO_PROPOSAL_CHOSEN or AUTH_FAILED at first and
		// must keep trying.
		KeyingTries: 0,
		// A new IKE_SA to the same AWS endpoint (after a restart of either
		// side) replaces the old one instead of living beside it.
		Unique:  "replace",
		IfIDIn:  id,
		IfIDOut: id,
		Local:   authSection{Auth: "psk"},
		Remote:  authSection{Auth: "psk", ID: t.OutsideAddress.String()},
		Children: map[string]childConn{t.Name: {
			LocalTS:      []string{"0.0.0.0/0"},
			RemoteTS:     []string{"0.0.0.0/0"},
			ESPProposals: t.ESPProposals,
			RekeyTime:    seconds(time.Duration(float64(t.ChildLifetime) * rekeyAt)),
			LifeTime:     seconds(t.ChildLifetime),
			RandTime:     seconds(time.Duration(float64(t.ChildLifetime) * rekeyRand)),
			Mode:         "tunnel",
			StartAction:  "start",
			DPDAction:    "restart",
			CloseAction:  "start",
			IfIDIn:       id,
			IfIDOut:      id,
		}},
	}
	if local.IsValid() {
		c.LocalAddrs = []string{local.String()}
		c.Local.ID = local.String()
	}
	if t.IKEVersion == 1 {
		// IKEv1 has a DPD timeout of its own; make it AWS's 30 s.
		c.DPDTimeout = seconds(3 * t.DPDDelay)
	}
	m := vici.NewMessage()
	if err := m.Set(t.Name, &c); err != nil {
		return nil, fmt.Errorf("ipsec: encoding connection %q: %w", t.Name, err)
	}
	return m, nil
}

// sharedFor builds the load-shared message for one tunnel's PSK. Errors
// from encoding it name the tunnel, never the key.
func sharedFor(t configs.Tunnel) (*vici.Message, error) {
	m := vici.NewMessage()
	for _, kv := range []struct {
		k string
		v any
	}{
		{"id", t.Name},
		{"type", "IKE"},
		{"data", t.PSK.Reveal()},
		{"owners", []string{t.OutsideAddress.String()}},
	} {
		if err := m.Set(kv.k, kv.v); err != nil {
			return nil, fmt.Errorf("ipsec: encoding the shared key of %q", t.Name)
		}
	}
	return m, nil
}
