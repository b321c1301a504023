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

// cmdImportAWS writes a site configuration from two VPN connections'
// customer gateway configurations.
func cmdImportAWS(fs *cmdline.FlagSet, args []string, stdout, stderr io.Writer) int {
	const (
		seedPrefix = "10.0.1.0/24"
		seedVIP    = "10.0.1.200"
	)
	var gateways, vlanAddrs, advertise cmdline.List
	fs.Var(&gateways, "gateway", "the Linode `label` of the gateway whose VPN connection the matching file describes (repeat, in file order; the first is VRRP master)")
	fs.Var(&vlanAddrs, "vlan-address", "pin each gateway's VLAN `address/len` (repeat, in gateway order; default: the Metadata Service's ipam_address)")
	fs.Var(&advertise, "advertise", "a `prefix` to announce to AWS (repeat; default: the VLAN prefix)")
	site := fs.String("site", "linode-to-aws", "the site's `name`")
	vlanPrefix := fs.String("vlan-prefix", seedPrefix, "the Linode VLAN's `prefix`")
	vip := fs.String("virtual-ip", "", "the VRRP virtual `IP` the VLAN's hosts route through (default "+seedVIP+" with the default --vlan-prefix)")
	asn := fs.Uint("asn", 0, "the site's BGP `ASN`; the customer gateways' ASN must match (default: the ASN AWS reports for them)")
	vrid := fs.Uint("vrid", 10, "the VRRP virtual router `id` (1..255)")
	defaults := fs.Bool("default-proposals", false, "leave the proposals out so tidegate's stronger defaults apply, instead of the algorithms AWS's document lists")
	out := fs.String("o", "", "write the site configuration to `file` (mode 0600: it holds the pre-shared keys) instead of standard output")
	fs.Require("gateway")
	files, code, ok := fs.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) != 2 || len(gateways) != 2 {
		return fs.Fail(stderr, "give two VPN connection files and two --gateway names, one per gateway of the pair (got %d and %d)", len(files), len(gateways))
	}
	var err error
	o := awsimport.Options{Site: *site, Gateways: gateways, Sources: files, DefaultProposals: *defaults}
	var bad []string
	if o.VLANPrefix, err = netip.ParsePrefix(*vlanPrefix); err != nil {
		bad = append(bad, fmt.Sprintf("--vlan-prefix: %v", err))
	}
	switch {
	case *vip != "":
		if o.VirtualIP, err = netip.ParseAddr(*vip); err != nil {
			bad = append(bad, fmt.Sprintf("--virtual-ip: %v", err))
		}
	case *vlanPrefix == seedPrefix:
		o.VirtualIP = netip.MustParseAddr(seedVIP)
	default:
		bad = append(bad, "--virtual-ip is required with --vlan-prefix")
	}
	for _, a := range vlanAddrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--vlan-address: %v", err))
		}
		o.VLANAddresses = append(o.VLANAddresses, p)
	}
	for _, a := range advertise {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--advertise: %v", err))
		}
		o.Advertise = append(o.Advertise, p)
	}
	if *asn > 1<<32-1 {
		bad = append(bad, "--asn: out of range")
	}
	if *vrid < 1 || *vrid > 255 {
		bad = append(bad, "--vrid: must be 1 to 255")
	}
	if len(bad) > 0 {
		return fs.Fail(stderr, "%s", strings.Join(bad, "\n"+fs.Name+": "))
	}
	o.ASN, o.VRID = uint32(*asn), uint8(*vrid)

	var conns []*awsimport.Connection
	failed := false
	for _, f := range files {
		// Read through the importer's size cap; its errors name the file.
		c, err := awsimport.ReadConnectionFile(f)
		if err == nil {
			conns = append(conns, c)
			continue
		}
		fmt.Fprintln(stderr, err)
		failed = true
	}
	if failed {
		return cmdline.Fail
	}
	doc, err := awsimport.Site(o, conns)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	if *out == "" {
		_, err = stdout.Write(doc)
	} else {
		err = os.WriteFile(*out, doc, 0o600)
		if err == nil {
			fmt.Fprintf(stderr, "wrote %s: site %s, gateways %s, %s (holds the pre-shared keys: keep it private)\n", *out, o.Site, gateways[0], gateways[1])
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cmdline.Fail
	}
	return cmdline.OK
}
