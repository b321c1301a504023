// Command vrrpd runs one vrrp.Router with flags, for the namespace tests and
// the benchmark. It is not part of the image: the gateway embeds the Router.
//
// It prints one JSON object per line on stdout: every state change
// ({"event":"state",...}) and, on request, the status ({"event":"status",...}).
// It reads commands on stdin, one per line:
//
//	track NAME WEIGHT   set a track weight
//	status              print the status
//	resign              planned handover, then keep running silent
//
// SIGTERM resigns (planned handover) and exits; SIGINT or closing stdin
// stops crash-like (no priority 0); SIGKILL is a crash.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

func main() {
	var (
		cfg      vrrp.Config
		vrid     = flag.Uint("vrid", 10, "virtual router ID")
		sibling  = flag.Uint("sibling", 0, "the VRID of the pair's other virtual router on the interface (active-active), ignored")
		prio     = flag.Uint("priority", 100, "priority 1..255")
		vips     = flag.String("vip", "10.0.1.200/24", "comma-separated virtual IP prefixes")
		password = flag.String("auth-pass-file", "", "file holding the v2 PASS password (kept off the command line)")
		debug    = flag.Bool("debug", false, "debug logs (drops) on stderr")
		prefix   = flag.String("prefix", "", "the VLAN prefix: adverts from outside it are dropped")
		peer     = flag.String("peer", "", "the peer's VLAN address (default: learned from its first advert)")
	)
	flag.StringVar(&cfg.Interface, "interface", "eth1", "VLAN interface")
	flag.IntVar(&cfg.Version, "version", 3, "VRRP version 2 or 3")
	flag.DurationVar(&cfg.AdvertInterval, "interval", time.Second, "advert interval")
	flag.BoolVar(&cfg.Preempt, "preempt", true, "preempt a lower-priority master")
	flag.DurationVar(&cfg.PreemptDelay, "preempt-delay", 0, "preempt delay")
	flag.IntVar(&cfg.GARPRepeat, "garp-repeat", 0, "gratuitous ARPs per burst (0: default)")
	flag.DurationVar(&cfg.GARPDelay, "garp-delay", 0, "delay of the second GARP burst (0: default)")
	flag.BoolVar(&cfg.UseVirtualMAC, "vmac", false, "use the RFC virtual MAC on a macvlan")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.VRID, cfg.Priority, cfg.Sibling = uint8(*vrid), uint8(*prio), uint8(*sibling)
	for _, s := range strings.Split(*vips, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			fatal(err)
		}
		cfg.VirtualIPs = append(cfg.VirtualIPs, p)
	}
	var err error
	if *prefix != "" {
		if cfg.Prefix, err = netip.ParsePrefix(*prefix); err != nil {
			fatal(err)
		}
	}
	if *peer != "" {
		if cfg.Peer, err = netip.ParseAddr(*peer); err != nil {
			fatal(err)
		}
	}
	if *password != "" {
		b, err := os.ReadFile(*password)
		if err != nil {
			fatal(err)
		}
		cfg.AuthPass = strings.TrimSpace(string(b))
	}
	r, err := vrrp.New(cfg)
	if err != nil {
		fatal(err)
	}

	var outMu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	emit := func(v any) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = out.Encode(v)
	}
	go func() {
		for sc := range r.Events() {
			emit(map[string]any{"event": "state", "from": sc.From.String(), "state": sc.State.String(),
				"reason": string(sc.Reason), "peer": addr(sc.Peer), "time": sc.Time.Format(time.RFC3339Nano)})
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		if sig == syscall.SIGTERM {
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			if err := r.Resign(rctx); err != nil {
				fmt.Fprintln(os.Stderr, "vrrpd:", err)
			}
			rcancel()
		}
		cancel()
	}()
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "track":
				w, err := strconv.Atoi(f[2])
				if err != nil {
					fmt.Fprintln(os.Stderr, "vrrpd: bad weight:", err)
					continue
				}
				r.SetTrack(f[1], w)
			case len(f) == 1 && f[0] == "status":
				s := r.Status()
				drops := map[string]uint64{}
				for k, v := range s.Drops {
					drops[string(k)] = v
				}
				emit(map[string]any{"event": "status", "state": s.State.String(), "priority": s.Priority,
					"effective_priority": s.EffectivePriority, "master": addr(s.MasterAddr),
					"master_priority": s.MasterPriority, "master_interval": s.MasterAdvertInterval.String(),
					"transitions": s.Transitions, "sent": s.AdvertsSent, "received": s.AdvertsReceived,
					"drops": drops, "resigning": s.Resigning, "peer": addr(s.Peer), "peer_learned": s.PeerLearned})
			case len(f) == 1 && f[0] == "resign":
				go func() {
					if err := r.Resign(ctx); err != nil {
						fmt.Fprintln(os.Stderr, "vrrpd:", err)
					}
					emit(map[string]any{"event": "resigned"})
				}()
			default:
				fmt.Fprintf(os.Stderr, "vrrpd: unknown command %q\n", sc.Text())
			}
		}
		cancel() // stdin closed: the test is gone
	}()
	if err := r.Run(ctx); err != nil {
		fatal(err)
	}
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "vrrpd:", err)
	os.Exit(1)
}
