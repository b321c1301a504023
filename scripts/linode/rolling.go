package linode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linode/linodego"
)

// VRRP roles as the status API reports them.
const (
	RoleMaster = "master"
	RoleBackup = "backup"
)

// Health asks a running gateway how it is. The gateway's status API client
// implements it; gatewayAddress is Gateway.StatusAddress or the instance's
// public IPv4. role is the VRRP role ("master" or "backup"); healthy means
// the gateway has its tunnels and BGP sessions up and could carry the
// site's traffic.
type Health interface {
	Health(ctx context.Context, gatewayAddress string) (role string, healthy bool, err error)
}

// RollingOptions tune RollingReimage.
type RollingOptions struct {
	// HealthTimeout bounds the wait for a reimaged gateway to report
	// healthy (boot, DHCP, metadata, IKE and BGP); [10m].
	HealthTimeout time.Duration
	// HandoverTimeout bounds the wait for the backup to report itself
	// master after the master's shutdown; [2m].
	HandoverTimeout time.Duration
	// Force starts even when the pair is not one healthy master and one
	// healthy backup. Reimaging then may interrupt the site.
	Force bool
}

// RollingReimage reimages both gateways of the pair with their Image without
// taking the site down: the backup first, then, once it is healthy again, a
// planned handover (shutdown of the master, whose power-button handler
// resigns VRRP mastership) and a reimage of the old master. It stops at the
// first step that fails, leaving the other gateway carrying the traffic.
func (c *Client) RollingReimage(ctx context.Context, pair [2]Gateway, h Health, o RollingOptions) error {
	if h == nil {
		return errors.New("rolling reimage: no way to ask the gateways' health (the status API client)")
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 10 * time.Minute
	}
	if o.HandoverTimeout <= 0 {
		o.HandoverTimeout = 2 * time.Minute
	}
	type member struct {
		g       Gateway
		inst    *linodego.Instance
		addr    string
		role    string
		healthy bool
	}
	var ms [2]*member
	for i, g := range pair {
		if err := g.check(false); err != nil {
			return fmt.Errorf("rolling reimage: %w", err)
		}
		inst, err := c.Find(ctx, g.Label)
		if err != nil {
			return fmt.Errorf("rolling reimage: %w", err)
		}
		if inst == nil {
			return fmt.Errorf("rolling reimage: no instance labelled %s", g.Label)
		}
		m := &member{g: g, inst: inst, addr: g.StatusAddress}
		if m.addr == "" {
			if len(inst.IPv4) == 0 || inst.IPv4[0] == nil {
				return fmt.Errorf("rolling reimage: %s has no IPv4 address to ask its status at", g.Label)
			}
			m.addr = inst.IPv4[0].String()
		}
		if m.role, m.healthy, err = h.Health(ctx, m.addr); err != nil {
			m.role, m.healthy = "unknown", false
			c.progress("%s: status: %v", g.Label, err)
		}
		c.progress("%s (%s): %s, healthy=%v", g.Label, m.addr, m.role, m.healthy)
		ms[i] = m
	}
	master, backup := ms[0], ms[1]
	if ms[1].role == RoleMaster {
		master, backup = ms[1], ms[0]
	}
	if !o.Force {
		switch {
		case !master.healthy || !backup.healthy:
			return fmt.Errorf("rolling reimage: refusing to start: %s is %s (healthy=%v) and %s is %s (healthy=%v); reimaging one gateway while the other cannot carry the traffic takes the site down (Force overrides)",
				ms[0].g.Label, ms[0].role, ms[0].healthy, ms[1].g.Label, ms[1].role, ms[1].healthy)
		case master.role != RoleMaster || backup.role != RoleBackup:
			return fmt.Errorf("rolling reimage: refusing to start: expected one master and one backup, got %s %s and %s %s",
				ms[0].g.Label, ms[0].role, ms[1].g.Label, ms[1].role)
		}
	}

	// 1. The backup: nothing depends on it.
	if _, err := c.reimage(ctx, backup.inst, backup.g); err != nil {
		return fmt.Errorf("rolling reimage: %w", err)
	}
	if err := c.waitHealth(ctx, h, backup.g.Label, backup.addr, "", o.HealthTimeout); err != nil {
		return fmt.Errorf("rolling reimage: %s was reimaged but is not healthy, so %s was left alone: %w", backup.g.Label, master.g.Label, err)
	}

	// 2. Planned handover: power the master off; tidegate resigns on the
	// ACPI power button, so the backup takes over within one advertisement.
	c.progress("%s: planned handover to %s (shutdown)", master.g.Label, backup.g.Label)
	if err := c.Shutdown(ctx, master.inst); err != nil {
		return fmt.Errorf("rolling reimage: %w", err)
	}
	if err := c.waitHealth(ctx, h, backup.g.Label, backup.addr, RoleMaster, o.HandoverTimeout); err != nil {
		return fmt.Errorf("rolling reimage: %s is off but %s did not take over: %w", master.g.Label, backup.g.Label, err)
	}

	// 3. The old master, now offline.
	if _, err := c.reimage(ctx, master.inst, master.g); err != nil {
		return fmt.Errorf("rolling reimage: %w", err)
	}
	if err := c.waitHealth(ctx, h, master.g.Label, master.addr, "", o.HealthTimeout); err != nil {
		return fmt.Errorf("rolling reimage: %s was reimaged but is not healthy (%s carries the traffic): %w", master.g.Label, backup.g.Label, err)
	}
	c.progress("rolling reimage done: %s and %s run %s", backup.g.Label, master.g.Label, master.g.Image)
	return nil
}

// waitHealth polls h until the gateway is healthy (and in role, if given).
func (c *Client) waitHealth(ctx context.Context, h Health, label, addr, role string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	last := "no answer yet"
	for {
		r, ok, err := h.Health(ctx, addr)
		switch {
		case err != nil:
			last = err.Error()
		case ok && (role == "" || r == role):
			c.progress("%s: healthy, %s", label, r)
			return nil
		default:
			last = fmt.Sprintf("%s, healthy=%v", r, ok)
		}
		select {
		case <-ctx.Done():
			want := "healthy"
			if role != "" {
				want = "healthy " + role
			}
			return fmt.Errorf("%s not %s after %s (last: %s)", label, want, timeout, last)
		case <-t.C:
		}
	}
}
