package guest

import "path/filepath"

// Host programs by Debian package (scripts/packages.txt installs them).
const (
	IP      = "/usr/bin/ip" // iproute2: busybox's ip has no XFRM interfaces
	Swanctl = "/usr/sbin/swanctl"
	Charon  = "/usr/lib/ipsec/charon"
	Vtysh   = "/usr/bin/vtysh"
	FRRDir  = "/usr/lib/frr"
	// IPerf3Path is iperf3 (package iperf3).
	IPerf3Path = "/usr/bin/iperf3"
)

// CharonPlugins are the plugins charon (strongswan.conf's charon.load) and
// swanctl (swanctl.load) load in a guest; each is dlopen'ed, so each brings
// its own library closure.
var CharonPlugins = []string{
	"random", "nonce", "openssl", "kdf", "kernel-netlink", "socket-default", "vici",
	"pem", "pkcs1", "pkcs8", "x509", "pubkey",
}

// IPRoute2 is iproute2's ip.
func IPRoute2() Spec { return Spec{Programs: []string{IP}} }

// StrongSwan is charon, swanctl and CharonPlugins. glibc dlopens libgcc_s
// for pthread_cancel: without it charon's thread pool aborts at start.
func StrongSwan() Spec {
	s := Spec{
		Programs: []string{Charon, Swanctl},
		Files:    []string{"/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"},
	}
	for _, p := range CharonPlugins {
		s.Programs = append(s.Programs, filepath.Join("/usr/lib/ipsec/plugins", "libstrongswan-"+p+".so"))
	}
	return s
}

// FRR is zebra, bgpd and vtysh; libyang reads FRR's YANG modules. The
// daemons run as user frr: see Users.
func FRR() Spec {
	return Spec{
		Programs: []string{Vtysh, filepath.Join(FRRDir, "zebra"), filepath.Join(FRRDir, "bgpd")},
		Dirs:     []string{"/usr/share/yang"},
	}
}

// IPerf3 is iperf3, for traffic through the tunnels.
func IPerf3() Spec { return Spec{Programs: []string{IPerf3Path}} }

// Keepalived is keepalived's VRRP daemon.
func Keepalived() Spec { return Spec{Programs: []string{"/usr/sbin/keepalived"}} }

// Join merges specs.
func Join(specs ...Spec) Spec {
	var out Spec
	for _, s := range specs {
		out.Programs = append(out.Programs, s.Programs...)
		out.Files = append(out.Files, s.Files...)
		out.Dirs = append(out.Dirs, s.Dirs...)
		out.Modules = append(out.Modules, s.Modules...)
	}
	return out
}

// Users are /etc/passwd and /etc/group for a guest running FRR: its
// daemons drop to user frr, and vtysh talks to them as group frrvty.
func Users() []File {
	return []File{
		{"/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nfrr:x:100:101:FRR:/run/frr:/bin/false\n")},
		{"/etc/group", 0o644, []byte("root:x:0:\nfrr:x:101:\nfrrvty:x:102:frr\n")},
	}
}

// Hosts is /etc/hosts naming the guest.
func Hosts(hostname string) File {
	return File{"/etc/hosts", 0o644, []byte("127.0.0.1 localhost " + hostname + "\n")}
}

// StrongswanConf is a guest's strongswan.conf: header (comment lines),
// charon loading CharonPlugins' share of them with options (lines inside
// its section) and logging to /var/log/charon.log, swanctl loading the
// rest.
func StrongswanConf(header, options string) string {
	return header + `charon {
	load = random nonce openssl kdf kernel-netlink socket-default vici
` + options + `	filelog {
		charon {
			path = /var/log/charon.log
			time_format = %b %e %T
			ike_name = yes
			default = 1
			flush_line = yes
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
swanctl {
	load = random openssl pem pkcs1 pkcs8 x509 pubkey
}
`
}
