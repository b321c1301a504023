package gateway

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tidegate/tidegate/services/ipsec"
)

// runServices starts the services for role and runs them until ctx ends.
// Each service hides its goroutines behind Run; the gateway only wires the
// events between them.
func runServices(ctx context.Context, o Options, role *Role) error {
	sec, err := ipsec.New(ipsec.Config{
		Charon:         o.Charon,
		RunDir:         filepath.Join(o.RunDir, "ipsec"),
		Tunnels:        role.Self.Tunnels,
		LocalAddress:   role.PublicAddress,
		Logger:         o.Log.With("svc", "ipsec"),
		XFRMInterfaces: o.XFRMInterfaces,
	})
	if err != nil {
		return fmt.Errorf("ipsec: %w", err)
	}
	go func() {
		for ev := range sec.Events() {
			o.Log.Info("tunnel event", "svc", "gateway", "tunnel", ev.Tunnel, "up", ev.Up, "reason", ev.Reason)
		}
	}()
	return sec.Run(ctx)
}
