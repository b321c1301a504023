package lab

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidegate/tidegate/scripts/linode/fakelinode"
)

// newLabLinode returns a fake Linode API (package fakelinode) whose two
// instances are the lab's gateways: a shutdown presses the VM's ACPI power
// button and waits until it is off, as Linode's does; a boot boots the
// image again (the lab has one image file: what the API records as the
// disk's image is the new one) with the user data the API holds.
func newLabLinode(t *testing.T, l *Lab) *fakelinode.Server {
	t.Helper()
	api := fakelinode.New(fakelinode.Config{
		Logf: t.Logf,
		OnShutdown: func(label string) error {
			g := l.Gateway(label)
			if g == nil || g.VM == nil {
				return fmt.Errorf("no VM for %s", label)
			}
			return l.ShutDown(context.Background(), g, time.Minute)
		},
		OnBoot: func(label, image string, userData []byte) error {
			g := l.Gateway(label)
			if g == nil {
				return fmt.Errorf("no gateway %s", label)
			}
			g.Metadata.SetUserData(userData)
			return l.BootGateway(g)
		},
	})
	t.Cleanup(api.Close)
	old := api.AddImage("tidegate-now")
	for _, g := range l.Gateways {
		_, err := api.AddInstance(fakelinode.Instance{
			Label: g.Name, Region: "us-east", Type: "g6-standard-1", Image: old,
			IPv4: []string{g.Public.String()}, UserData: l.opts.SiteYAML,
			VLAN: "lab-vlan", IPAMAddress: g.VLAN.String(),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return api
}
