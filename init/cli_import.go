package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/tidegate/tidegate/configs/awsimport"
	"github.com/tidegate/tidegate/internal/cmdline"
)

var importAWSCommand = command{
	name: "import-aws",
	args: "VPN1 VPN2 --gateway NAME1 --gateway NAME2 [-o FILE]",
	short: "write a site configuration from AWS's two VPN\n" +
		"connections (CustomerGatewayConfiguration XML,\n" +
		"or describe-vpn-connections JSON)",
	doc: "  Writes a site configuration for the pair from AWS's two Site-to-Site VPN\n" +
		"  connections, one per gateway. Each of VPN1 and VPN2 is either\n" +
		"    - the connection's CustomerGatewayConfiguration XML:\n" +
		"        aws ec2 describe-vpn-connections --vpn-connection-ids vpn-... \\\n" +
		"          --query 'VpnConnections[0].CustomerGatewayConfiguration' --output text > vpn-1.xml\n" +
		"    - or the JSON of aws ec2 describe-vpn-connections --vpn-connection-ids vpn-...\n" +
		"      for that one connection.\n" +
		"  The console's \"Download configuration\" files are text for people to read\n" +
		"  (one per vendor, including \"Generic\"); the importer does not read them.",
	run: cmdImportAWS,
}

// The seed article's VLAN prefix and virtual IP: --virtual-ip's default
// with the default --vlan-prefix.
const (
	seedPrefix = "10.0.1.0/24"
	seedVIP    = "10.0.1.200"
)

// importFlags are import-aws's flags, as given.
type importFlags struct {
	gateways, vlanAddrs, advertise cmdline.List

	site, vlanPrefix, vip, out *string
	asn, vrid                  *uint
	defaults                   *bool
}

func newImportFlags(fs *cmdline.FlagSet) *importFlags {
	f := new(importFlags)
	fs.Var(&f.gateways, "gateway", "the Linode `label` of the gateway whose VPN connection the matching file describes (repeat, in file order; the first is VRRP master)")
	fs.Var(&f.vlanAddrs, "vlan-address", "pin each gateway's VLAN `address/len` (repeat, in gateway order; default: the Metadata Service's ipam_address)")
	fs.Var(&f.advertise, "advertise", "a `prefix` to announce to AWS (repeat; default: the VLAN prefix)")
	f.site = fs.String("site", "linode-to-aws", "the site's `name`")
	f.vlanPrefix = fs.String("vlan-prefix", seedPrefix, "the Linode VLAN's `prefix`")
	f.vip = fs.String("virtual-ip", "", "the VRRP virtual `IP` the VLAN's hosts route through (default "+seedVIP+" with the default --vlan-prefix)")
	f.asn = fs.Uint("asn", 0, "the site's BGP `ASN`; the customer gateways' ASN must match (default: the ASN AWS reports for them)")
	f.vrid = fs.Uint("vrid", 10, "the VRRP virtual router `id` (1..255)")
	f.defaults = fs.Bool("default-proposals", false, "leave the proposals out so tidegate's stronger defaults apply, instead of the algorithms AWS's document lists")
	f.out = fs.String("o", "", "write the site configuration to `file` (mode 0600: it holds the pre-shared keys) instead of standard output")
	fs.Require("gateway")
	return f
}

// options are the importer's options for files, and a line for each flag
// whose value is wrong.
func (f *importFlags) options(files []string) (awsimport.Options, []string) {
	o := awsimport.Options{Site: *f.site, Gateways: f.gateways, Sources: files, DefaultProposals: *f.defaults}
	var bad []string
	var err error
	if o.VLANPrefix, err = netip.ParsePrefix(*f.vlanPrefix); err != nil {
		bad = append(bad, fmt.Sprintf("--vlan-prefix: %v", err))
	}
	switch {
	case *f.vip != "":
		if o.VirtualIP, err = netip.ParseAddr(*f.vip); err != nil {
			bad = append(bad, fmt.Sprintf("--virtual-ip: %v", err))
		}
	case *f.vlanPrefix == seedPrefix:
		o.VirtualIP = netip.MustParseAddr(seedVIP)
	default:
		bad = append(bad, "--virtual-ip is required with --vlan-prefix")
	}
	o.VLANAddresses = prefixes("--vlan-address", f.vlanAddrs, &bad)
	o.Advertise = prefixes("--advertise", f.advertise, &bad)
	if *f.asn > 1<<32-1 {
		bad = append(bad, "--asn: out of range")
	}
	if *f.vrid < 1 || *f.vrid > 255 {
		bad = append(bad, "--vrid: must be 1 to 255")
	}
	o.ASN, o.VRID = uint32(*f.asn), uint8(*f.vrid)
	return o, bad
}

// prefixes parses the values of the repeated flag name, adding a line to
// bad for each that is not a prefix.
func prefixes(name string, vs []string, bad *[]string) []netip.Prefix {
	var ps []netip.Prefix
	for _, v := range vs {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			*bad = append(*bad, fmt.Sprintf("%s: %v", name, err))
		}
		ps = append(ps, p)
	}
	return ps
}

// cmdImportAWS writes a site configuration from two VPN connections'
// customer gateway configurations.
func cmdImportAWS(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	f := newImportFlags(fs)
	files, code, ok := fs.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) != 2 || len(f.gateways) != 2 {
		return fs.Fail(stderr, "give two VPN connection files and two --gateway names, one per gateway of the pair (got %d and %d)", len(files), len(f.gateways))
	}
	o, bad := f.options(files)
	if len(bad) > 0 {
		return fs.Fail(stderr, "%s", strings.Join(bad, "\n"+fs.Name+": "))
	}
	var conns []*awsimport.Connection
	for _, file := range files {
		// Read through the importer's size cap; its errors name the file.
		c, err := awsimport.ReadConnectionFile(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			continue
		}
		conns = append(conns, c)
	}
	if len(conns) != len(files) {
		return cmdline.Fail
	}
	doc, err := awsimport.Site(o, conns)
	if err == nil {
		err = writeSite(doc, *f.out, o, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	return cmdline.OK
}

// writeSite writes doc to the file out (private: it holds the pre-shared
// keys) and says so, or to stdout.
func writeSite(doc []byte, out string, o awsimport.Options, stdout, stderr io.Writer) error {
	if out == "" {
		_, err := stdout.Write(doc)
		return err
	}
	if err := os.WriteFile(out, doc, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: site %s, gateways %s, %s (holds the pre-shared keys: keep it private)\n", out, o.Site, o.Gateways[0], o.Gateways[1])
	return nil
}
