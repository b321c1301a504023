package qemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

// Linode's link-local Metadata Service address.
const MetadataAddr = "169.254.169.254"

// Segment addressing in a test namespace: the "internet" (eth0 side, a
// documentation range) with the Metadata Service on it, and the VLAN.
const (
	PublicRouter = "192.0.2.1"
	VLANHost     = "10.0.1.250"
)

// Site is one namespace holding a public segment (bridge "pub": DHCP server,
// router address, Metadata Service) and a VLAN segment (bridge "vlan").
type Site struct {
	Netns    *Netns
	Metadata *fakemetadata.Server
	dir      string
	dnsmasq  *exec.Cmd
	stopMD   func()
}

// NewSite builds the namespace and starts dnsmasq and the fake metadata
// service (which serves md) in it.
func NewSite(name string, md fakemetadata.Config) (s *Site, err error) {
	ns, err := NewNetns(name)
	if err != nil {
		return nil, err
	}
	s = &Site{Netns: ns}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", name+"-"); err != nil {
		return nil, err
	}
	if err = ns.Bridge("pub", PublicRouter+"/24", MetadataAddr+"/32"); err != nil {
		return nil, err
	}
	if err = ns.Bridge("vlan", VLANHost+"/24"); err != nil {
		return nil, err
	}
	// --no-ping: dnsmasq would ping each address for 3 s before offering it,
	// which Linode's DHCP does not; it made every boot 3 s longer.
	s.dnsmasq = ns.Command("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
		"--user=root", "--group=root", "--interface=pub", "--bind-interfaces", "--no-ping",
		"--dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,12h",
		"--dhcp-option=option:router,"+PublicRouter,
		"--dhcp-leasefile="+filepath.Join(s.dir, "leases"),
		"--pid-file="+filepath.Join(s.dir, "dnsmasq.pid"))
	if out, err := os.Create(filepath.Join(s.dir, "dnsmasq.log")); err == nil {
		s.dnsmasq.Stdout, s.dnsmasq.Stderr = out, out
	}
	if err = deathsig.Start(s.dnsmasq); err != nil {
		return nil, fmt.Errorf("dnsmasq: %w", err)
	}
	ln, err := ns.Listen("tcp4", MetadataAddr+":80")
	if err != nil {
		return nil, fmt.Errorf("metadata listener: %w", err)
	}
	s.Metadata = fakemetadata.New(md)
	_, s.stopMD = s.Metadata.Start(ln)
	return s, nil
}

// Leases returns dnsmasq's lease file: one line per lease with the MAC.
func (s *Site) Leases() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "leases"))
	return string(b)
}

// Ping pings addr from the namespace once and reports whether it answered.
func (s *Site) Ping(addr string) bool {
	return s.Netns.Command("ping", "-c", "1", "-W", "1", addr).Run() == nil
}

// WaitPing pings addr until it answers or ctx ends.
func (s *Site) WaitPing(ctx context.Context, addr string) error {
	for {
		if s.Ping(addr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not answer ping: %w", addr, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close stops everything the site started and deletes the namespace.
func (s *Site) Close() {
	if s.stopMD != nil {
		s.stopMD()
	}
	if s.dnsmasq != nil && s.dnsmasq.Process != nil {
		s.dnsmasq.Process.Kill()
		s.dnsmasq.Wait()
	}
	if s.Netns != nil {
		s.Netns.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
