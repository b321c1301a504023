// Command tidegate-qemu boots one tidegate gateway from out/tidegate.img in
// QEMU, the way a Linode boots it: DHCP on eth0, a fake Linode Metadata
// Service at 169.254.169.254 serving the given site YAML as user data and
// the given label, eth1 on a VLAN bridge. The guest's serial console (Lish)
// is this terminal. Everything lives in a network namespace that is removed
// on exit (Ctrl-C). `make qemu` runs it; it needs root.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

func main() {
	config := flag.String("config", "configs/examples/seed.yaml", "site YAML served as user data")
	name := flag.String("name", "vpn-gw-1", "the Linode label (a gateways[].name of the site)")
	ipam := flag.String("ipam", "10.0.1.2/24", "the VLAN interface's ipam_address")
	image := flag.String("image", qemu.Image(), "disk image")
	flag.Parse()
	if err := run(*config, *name, *ipam, *image); err != nil {
		fmt.Fprintln(os.Stderr, "tidegate-qemu:", err)
		os.Exit(1)
	}
}

func run(config, name, ipam, image string) error {
	userData, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	vlan, err := netip.ParsePrefix(ipam)
	if err != nil {
		return fmt.Errorf("-ipam: %w", err)
	}
	site, err := qemu.NewSite(fmt.Sprintf("tgqemu-%d", os.Getpid()), fakemetadata.Config{
		Instance: fakemetadata.Instance{ID: 1, Label: name, Region: "us-east", Type: "g6-nanode-1"},
		Network: fakemetadata.Network{Interfaces: []fakemetadata.Interface{
			{Purpose: "public"}, {Label: "vlan-tidegate", Purpose: "vlan", IPAMAddress: vlan},
		}},
		UserData: userData,
	})
	if err != nil {
		return err
	}
	defer site.Close()
	for _, tap := range [][2]string{{"tap0", "pub"}, {"tap1", "vlan"}} {
		if err := site.Netns.Tap(tap[0], tap[1]); err != nil {
			return err
		}
	}
	fmt.Printf("tidegate-qemu: namespace %s: eth0 on 192.0.2.0/24 (DHCP, metadata at %s), eth1 on the VLAN (this side %s)\n",
		site.Netns.Name, qemu.MetadataAddr, qemu.VLANHost)
	fmt.Printf("tidegate-qemu: try `ip netns exec %s ping %s` from another terminal; Ctrl-C stops\n", site.Netns.Name, vlan.Addr())
	vm, err := qemu.Start(qemu.Options{
		Name: name, Netns: site.Netns, Image: image, Console: os.Stdout,
		NICs: []qemu.NIC{{Tap: "tap0", MAC: "52:54:00:00:01:00"}, {Tap: "tap1", MAC: "52:54:00:00:01:01"}},
	})
	if err != nil {
		return err
	}
	defer vm.Kill()
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			vm.Type(in.Text())
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { vm.Wait(context.Background()); close(done) }()
	select {
	case <-sigs:
	case <-done:
	}
	return nil
}
