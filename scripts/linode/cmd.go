package linode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
)

// CLI runs `tidegate linode ...`.
type CLI struct {
	Stdout, Stderr io.Writer
	// Getenv reads LINODE_TOKEN (required) and LINODE_URL (the API's
	// address, for tests and Linode's staging API); [os.Getenv].
	Getenv func(string) string
	// Health asks the gateways' status for rolling-reimage; nil until the
	// status API has a client.
	Health Health
	// PollInterval overrides Config.PollInterval (tests).
	PollInterval time.Duration
}

const usage = `usage: tidegate linode COMMAND [flags]   (API token in LINODE_TOKEN)

  upload [--region R] [--label L] [--description D] [IMAGE.img.gz]
      upload the firmware (default out/tidegate.img.gz) as a custom image and
      print its ID once Linode has processed it
  deploy --site site.yaml --image private/ID --region R --type T [--name NAME]...
      create the pair's instances (or the named ones) and boot them
  reimage --site site.yaml --image private/ID --name NAME [--name NAME]
      rebuild the named instances with the image, re-applying user data and
      profile (one after the other, without waiting for health)
  rolling-reimage --site site.yaml --image private/ID [--force]
      reimage the backup, hand over, reimage the master; the site stays up

common flags: --vlan LABEL (default: the site's name), --ipam NAME=ADDR/LEN
(the VLAN address of a gateway without vlan_address), --status NAME=ADDR
(where a gateway's status API answers; default its public IPv4)
`

// mapFlag collects NAME=VALUE flags.
type mapFlag map[string]string

func (m mapFlag) String() string { return "" }
func (m mapFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	m[k] = val
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Run runs one command and returns the process exit code: 0 on success, 1
// when the command failed, 2 for a usage error.
func (c *CLI) Run(ctx context.Context, args []string) int {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("linode "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, usage) }
	var (
		region  = fs.String("region", "", "Linode region, e.g. us-east")
		label   = fs.String("label", "", "image label (upload)")
		desc    = fs.String("description", "", "image description (upload)")
		siteF   = fs.String("site", "", "the site YAML, which becomes the user data")
		image   = fs.String("image", "", "custom image ID, e.g. private/12345")
		typ     = fs.String("type", "", "Linode plan for new instances, e.g. g6-standard-1")
		vlan    = fs.String("vlan", "", "Linode VLAN label (default: the site's name)")
		force   = fs.Bool("force", false, "rolling-reimage even when the pair is not one healthy master and one healthy backup")
		names   listFlag
		tags    listFlag
		ipamF   = mapFlag{}
		statusF = mapFlag{}
	)
	fs.Var(&names, "name", "a gateway to act on (repeat; default both)")
	fs.Var(&tags, "tag", "a tag for new instances (repeat)")
	fs.Var(ipamF, "ipam", "NAME=ADDR/LEN: VLAN address of a gateway without vlan_address")
	fs.Var(statusF, "status", "NAME=ADDR: where a gateway's status API answers")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}

	client, err := New(Config{
		Token:        c.Getenv("LINODE_TOKEN"),
		BaseURL:      c.Getenv("LINODE_URL"),
		PollInterval: c.PollInterval,
		Progress:     c.Stderr,
	})
	if err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 1
	}

	if cmd == "upload" {
		path := "out/tidegate.img.gz"
		switch len(pos) {
		case 0:
		case 1:
			path = pos[0]
		default:
			fs.Usage()
			return 2
		}
		if *region == "" {
			fmt.Fprintln(c.Stderr, "upload: --region is required (where the image is stored)")
			return 2
		}
		if *label == "" {
			*label = "tidegate-" + time.Now().UTC().Format("20060102-1504")
		}
		img, err := client.Upload(ctx, UploadOptions{Path: path, Region: *region, Label: *label, Description: *desc})
		if err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 1
		}
		fmt.Fprintln(c.Stdout, img.ID)
		return 0
	}

	switch cmd {
	case "deploy", "reimage", "rolling-reimage":
	default:
		fmt.Fprintf(c.Stderr, "linode: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}
	if len(pos) > 0 || *siteF == "" || *image == "" {
		fmt.Fprintf(c.Stderr, "%s: --site and --image are required\n", cmd)
		return 2
	}
	if cmd == "deploy" && (*region == "" || *typ == "") {
		fmt.Fprintln(c.Stderr, "deploy: --region and --type are required for new instances")
		return 2
	}
	data, err := os.ReadFile(*siteF)
	if err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 1
	}
	ipam := map[string]netip.Prefix{}
	for k, v := range ipamF {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			fmt.Fprintf(c.Stderr, "--ipam %s: %v\n", k, err)
			return 2
		}
		ipam[k] = p
	}
	pair, site, err := SiteGateways(data, Gateway{Region: *region, Type: *typ, Image: *image, VLAN: *vlan, Tags: tags}, ipam)
	if err != nil {
		fmt.Fprintf(c.Stderr, "%s: %v\n", *siteF, err)
		return 1
	}
	for i := range pair {
		pair[i].StatusAddress = statusF[pair[i].Label]
	}

	if cmd == "rolling-reimage" {
		if len(site.Status.Allow) == 0 && (statusF[pair[0].Label] == "" || statusF[pair[1].Label] == "") {
			// The gateways' packet filter lets the status port in on the
			// public address only from status.allow.
			fmt.Fprintf(c.Stderr, "%s: no status.allow: a gateway's public address does not answer health checks; list this workstation's network in status.allow, or run from a VLAN host with --status LABEL=VLAN-ADDRESS\n", *siteF)
		}
		if len(names) > 0 {
			fmt.Fprintln(c.Stderr, "rolling-reimage: acts on the pair; --name does not apply")
			return 2
		}
		if c.Health == nil {
			fmt.Fprintln(c.Stderr, "rolling-reimage needs each gateway's health from the gateway status API, which this build has no client for yet; reimage one gateway at a time with `tidegate linode reimage --name` and check it in between")
			return 1
		}
		if err := client.RollingReimage(ctx, pair, c.Health, RollingOptions{Force: *force}); err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 1
		}
		return 0
	}

	if cmd == "reimage" && len(names) == 0 {
		// Both at once would take the site down; that is what
		// rolling-reimage is for.
		fmt.Fprintln(c.Stderr, "reimage: name the gateways to reimage (--name); rolling-reimage reimages a serving pair without downtime")
		return 2
	}
	selected, err := pick(pair, names)
	if err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 2
	}
	for _, g := range selected {
		var err error
		if cmd == "deploy" {
			_, err = client.Deploy(ctx, g)
		} else {
			_, err = client.Reimage(ctx, g)
		}
		if err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 1
		}
		fmt.Fprintf(c.Stdout, "%s: %s with %s\n", g.Label, map[string]string{"deploy": "deployed", "reimage": "reimaged"}[cmd], g.Image)
	}
	return 0
}

// pick selects the named gateways of the pair, in the pair's order.
func pick(pair [2]Gateway, names []string) ([]Gateway, error) {
	if len(names) == 0 {
		return pair[:], nil
	}
	var out []Gateway
	for _, g := range pair {
		for _, n := range names {
			if n == g.Label {
				out = append(out, g)
			}
		}
	}
	if len(out) != len(names) {
		return nil, errors.New("--name: each name must be one of the site's gateways, " + pair[0].Label + " or " + pair[1].Label)
	}
	return out, nil
}
