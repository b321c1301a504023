// Command fakemetadata serves a fake Linode Metadata Service (package
// fakemetadata) for labs: a tidegate guest or process reaches it at
// 169.254.169.254:80 as it would on a Linode.
//
// Run it inside the network namespace a guest's packets to 169.254.169.254
// end up in (the one holding the guest's default gateway), for example:
//
//	ip netns exec lab-router fakemetadata -label vpn-gw-1 \
//	    -vlan-ipam 10.0.1.2/24 -userdata-file site.yaml
//	ip -n lab-router addr add 169.254.169.254/32 dev lo
//
// It binds with IP_FREEBIND, so it may start before the address is
// configured. Port 80 needs root or CAP_NET_BIND_SERVICE. SIGHUP reads
// -userdata-file again; SIGINT and SIGTERM stop it. It logs one line per
// request (never a body) to stderr.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{})
	go func() {
		for range hup {
			reload <- struct{}{}
		}
	}()
	if err := run(ctx, os.Args[1:], os.Stderr, reload, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fakemetadata:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. Each receive on reload reads the user data
// file again; ready, when not nil, gets the address once it listens.
func run(ctx context.Context, args []string, stderr io.Writer, reload <-chan struct{}, ready chan<- net.Addr) error {
	fs := flag.NewFlagSet("fakemetadata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "169.254.169.254:80", "address to serve on")
		freebind   = fs.Bool("freebind", true, "bind even when the address is not (yet) configured (IP_FREEBIND)")
		id         = fs.Int("id", 1, "Linode ID")
		label      = fs.String("label", "vpn-gw-1", "Linode label")
		region     = fs.String("region", "us-ord", "region")
		typ        = fs.String("type", "g6-standard-1", "plan type")
		hostUUID   = fs.String("host-uuid", "fakemetadata", "host UUID")
		tags       = fs.String("tags", "", "comma-separated tags")
		vlanLabel  = fs.String("vlan-label", "vlan-1", "VLAN interface label; empty for no VLAN interface")
		vlanIPAM   = fs.String("vlan-ipam", "", "VLAN interface ipam_address, e.g. 10.0.1.2/24; empty for none")
		hideVLAN   = fs.Int("hide-vlan", 0, "leave the VLAN interface out of the first N network answers")
		publicV4   = fs.String("public-ipv4", "203.0.113.10/32", "comma-separated public IPv4 prefixes")
		privateV4  = fs.String("private-ipv4", "", "comma-separated private IPv4 prefixes")
		slaac      = fs.String("slaac", "", "IPv6 SLAAC address as a prefix, e.g. 2001:db8::10/128")
		userFile   = fs.String("userdata-file", "", "file whose contents are the user data; none when empty")
		userGzip   = fs.Bool("userdata-gzip", false, "gzip the user data before serving it (base64 of gzip)")
		logRequest = fs.Bool("log-requests", true, "log one line per request")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	cfg := fakemetadata.Config{
		Instance: fakemetadata.Instance{
			ID: *id, Label: *label, Region: *region, Type: *typ, HostUUID: *hostUUID,
			Tags:  splitList(*tags),
			Specs: fakemetadata.Specs{VCPUs: 1, Memory: 2048, Disk: 51200, Transfer: 2000},
		},
		Network: fakemetadata.Network{Interfaces: []fakemetadata.Interface{{Purpose: "public"}}},
	}
	var err error
	if cfg.Network.IPv4.Public, err = parsePrefixes(*publicV4); err != nil {
		return fmt.Errorf("-public-ipv4: %w", err)
	}
	if cfg.Network.IPv4.Private, err = parsePrefixes(*privateV4); err != nil {
		return fmt.Errorf("-private-ipv4: %w", err)
	}
	if *slaac != "" {
		if cfg.Network.IPv6.SLAAC, err = netip.ParsePrefix(*slaac); err != nil {
			return fmt.Errorf("-slaac: %w", err)
		}
	}
	if *vlanLabel != "" {
		ifc := fakemetadata.Interface{Label: *vlanLabel, Purpose: "vlan"}
		if *vlanIPAM != "" {
			if ifc.IPAMAddress, err = netip.ParsePrefix(*vlanIPAM); err != nil {
				return fmt.Errorf("-vlan-ipam: %w", err)
			}
		}
		cfg.Network.Interfaces = append(cfg.Network.Interfaces, ifc)
	}
	readUserData := func() ([]byte, error) {
		if *userFile == "" {
			return nil, nil
		}
		b, err := os.ReadFile(*userFile)
		if err != nil || !*userGzip {
			return b, err
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if cfg.UserData, err = readUserData(); err != nil {
		return fmt.Errorf("-userdata-file: %w", err)
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := fakemetadata.New(cfg)
	srv.HideVLANs(*hideVLAN)

	ln, err := listenTCP(ctx, *listen, *freebind)
	if err != nil {
		return err
	}
	log.Info("serving", "addr", ln.Addr().String(), "label", *label, "vlan", *vlanLabel+"="+*vlanIPAM,
		"user_data_bytes", len(cfg.UserData))
	if ready != nil {
		ready <- ln.Addr()
	}

	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				b, err := readUserData()
				if err != nil {
					log.Error("reading the user data again", "err", err)
					continue
				}
				srv.SetUserData(b)
				log.Info("user data read again", "user_data_bytes", len(b))
			}
		}
	}()

	var h http.Handler = srv
	if *logRequest {
		h = logRequests(log, srv)
	}
	return serve(ctx, ln, h)
}

// serve is fakemetadata.Server.Serve for a wrapped handler.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs method, path, status and peer of each request; never a
// header value or a body (tokens and user data).
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "peer", r.RemoteAddr)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitList(s) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
