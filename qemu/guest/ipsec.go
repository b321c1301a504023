package guest

import (
	"fmt"
	"io"
)

// IPsecModules are the kernel modules an IPsec guest (the AWS peer, the
// seed stack) loads, in order (their dependencies come along): the NICs,
// ESP over XFRM interfaces and the crypto AWS's proposals need. aes, cbc,
// sha1, sha256 and hmac are built into Debian's kernel; drbg is the
// "stdrng" the IV generators need, without which every SA install fails
// with ENOENT (docs/design.md). The drivers for the CPU's AES, carry-less
// multiply and SHA instructions come last, as in tidegate's image: Ubuntu,
// the seed article's system, loads them by CPU modalias, and AWS's end is
// not short of crypto hardware either.
var IPsecModules = []string{
	"virtio_pci", "virtio_net", "virtio_rng",
	"xfrm_user", "xfrm_interface", "esp4",
	"authenc", "authencesn", "echainiv", "seqiv", "drbg",
	"gcm", "ghash_generic", "ctr", "sha512_generic", "cmac", "xcbc",
	"aesni_intel", "ghash_clmulni_intel", "sha1_ssse3", "sha256_ssse3", "sha512_ssse3",
}

// XFRMInterface returns the name and if_id of the XFRM interface for the
// i-th tunnel.
func XFRMInterface(i int) (name string, ifID int) { return fmt.Sprintf("xfrm%d", i+1), i + 1 }

// WriteXFRMInterface writes the shell lines that create the i-th tunnel's
// XFRM interface over eth0, named for alias, with address addr (a prefix)
// and MTU mtu, and returns its name and if_id.
func WriteXFRMInterface(w io.Writer, i int, alias, addr string, mtu int) (name string, ifID int) {
	name, ifID = XFRMInterface(i)
	fmt.Fprintf(w, "ip link add %s type xfrm dev eth0 if_id %d\n", name, ifID)
	fmt.Fprintf(w, "ip link set %s alias %s mtu %d up\n", name, alias, mtu)
	fmt.Fprintf(w, "ip addr add %s dev %s\n", addr, name)
	return name, ifID
}

// FRRConfigs are FRR's zebra.conf, bgpd.conf (as given) and vtysh.conf
// for a guest named hostname.
func FRRConfigs(hostname string, bgpd []byte) []File {
	return []File{
		{"/etc/frr/zebra.conf", 0o644, []byte(fmt.Sprintf("hostname %s\nlog file /var/log/frr/zebra.log informational\n", hostname))},
		{"/etc/frr/bgpd.conf", 0o644, bgpd},
		{"/etc/frr/vtysh.conf", 0o644, []byte("! root on the console needs no PAM (there is none in the guest)\nusername root nopassword\n")},
	}
}
