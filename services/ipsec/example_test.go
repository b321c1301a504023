package ipsec_test

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/ipsec"
)

// How the gateway runs the service in the image: the gateway's own tunnels
// from the site configuration, every network duty on, and the events fanned
// out to BGP and VRRP.
func Example() {
	site, err := configs.Load("/etc/tidegate/site.yaml")
	if err != nil {
		panic(err)
	}
	gw, err := site.Gateway("vpn-gw-1")
	if err != nil {
		panic(err)
	}
	svc, err := ipsec.New(ipsec.Config{
		RunDir:         "/run/tidegate/ipsec",
		Tunnels:        gw.Tunnels,
		LocalAddress:   netip.MustParseAddr("192.0.2.1"), // eth0's DHCP address
		Logger:         slog.Default(),
		XFRMInterfaces: true,
		Sysctls:        true,
	})
	if err != nil {
		panic(err)
	}
	go func() {
		for e := range svc.Events() {
			// bgp: e.Up ? speaker.TunnelUp(e.Tunnel) : speaker.TunnelDown(e.Tunnel)
			// vrrp: track the number of tunnels up
			slog.Info("tunnel", "name", e.Tunnel, "up", e.Up, "reason", e.Reason)
		}
	}()
	for _, t := range gw.Tunnels {
		dev, _ := ipsec.InterfaceFor(t) // the BGP session's device
		_ = dev
	}
	_ = svc.Run(context.Background())
}
