// Command tidegate-lab runs the reference scenario (package qemu/lab): two
// tidegate gateways booted from out/tidegate.img, an AWS peer and a VLAN
// host, in network namespaces. It prints what starts, waits until tunnels,
// BGP and VRRP work and the VLAN host reaches the VPC, prints the state, and
// keeps the lab up until Ctrl-C or `make lab-down`, then removes it all.
// A Prometheus on the VLAN host scrapes both gateways with tidegate's alert
// rules (package qemu/lab, StartPrometheus), forwarded to -prometheus on
// this machine. `make lab` runs it; it needs root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/lab"
)

// PidFile lets `make lab-down` stop a lab started in another terminal.
const PidFile = "/run/tidegate-lab.pid"

func main() {
	image := flag.String("image", qemu.Image(), "tidegate disk image")
	dir := flag.String("dir", "out/lab", "directory for the guests' console logs")
	ready := flag.Duration("ready-timeout", 6*time.Minute, "how long to wait for the scenario to work")
	site := flag.String("site", "seed.yaml", "the example of configs/examples both gateways get as user data")
	prom := flag.String("prometheus", "127.0.0.1:9090", "where the lab's Prometheus (on the VLAN host) is forwarded on this machine; \"\" for no Prometheus")
	seed := flag.String("seed", "", "comma-separated gateways that run the seed article's stack (Keepalived + FRR + strongSwan) instead of tidegate, e.g. vpn-gw-2 with -site seed-keepalived-v2.yaml")
	flag.Parse()
	o := lab.Options{Image: *image, Log: os.Stdout, Dir: *dir}
	var err error
	if o.SiteYAML, err = lab.LabSiteFrom(*site); err != nil {
		fmt.Fprintln(os.Stderr, "tidegate-lab:", err)
		os.Exit(2)
	}
	if *seed != "" {
		o.SeedStack = strings.Split(*seed, ",")
	}
	if err := run(o, *ready, *prom); err != nil {
		fmt.Fprintln(os.Stderr, "tidegate-lab:", err)
		os.Exit(1)
	}
}

func run(o lab.Options, readyTimeout time.Duration, prom string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer qemu.Lock()()
	dir := o.Dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	os.WriteFile(PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	defer os.Remove(PidFile)

	l, err := lab.Start(o)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("tidegate-lab: tearing down")
		l.Close()
	}()
	fmt.Printf("tidegate-lab: consoles in %s/*.console; VLAN host: ip netns exec %s ping %s\n", dir, l.Host.Name, lab.VPCHost)
	if prom != "" {
		startPrometheus(l, prom)
	}
	wctx, cancel := context.WithTimeout(ctx, readyTimeout)
	s, err := l.WaitReady(wctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		fmt.Print(s.Table())
		return err
	}
	fmt.Printf("tidegate-lab: ready in %.1f s\n\n%s\n%s\n", time.Since(l.Started).Seconds(), s.Table(), l.GatewayTable(ctx))
	fmt.Println("tidegate-lab: up; Ctrl-C (or make lab-down) stops it")
	last := s.Summary()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Second):
		}
		if now := l.State(ctx); now.Summary() != last {
			fmt.Printf("lab: %s\n%s", now.Summary(), l.GatewayTable(ctx))
			last = now.Summary()
		}
	}
}

// startPrometheus starts the lab's Prometheus and forwards it to addr,
// saying where to reach it. The lab works without it: a missing
// prometheus package or a busy address is reported, not fatal.
func startPrometheus(l *lab.Lab, addr string) {
	p, err := lab.StartPrometheus(l, lab.PrometheusOptions{})
	if err != nil {
		fmt.Printf("tidegate-lab: no Prometheus: %v\n", err)
		return
	}
	where := fmt.Sprintf("ip netns exec %s curl http://%s/api/v1/alerts", l.Host.Name, p.Addr)
	fwd, err := p.Forward(l, addr)
	if err != nil {
		fmt.Printf("tidegate-lab: Prometheus on the VLAN host at http://%s (%s); not forwarded to %s: %v\n", p.Addr, where, addr, err)
		return
	}
	fmt.Printf("tidegate-lab: Prometheus at http://%s (the VLAN host's %s: %s), scraping both gateways every 2 s with the rules of %s, for: 4 s; alerts at http://%s/alerts\n",
		fwd, p.Addr, where, lab.RulesFile, fwd)
}
