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

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/cmdline"
)

// CLI runs `tidegate linode ...`.
type CLI struct {
	Stdout, Stderr io.Writer
	// Getenv reads LINODE_TOKEN (required) and LINODE_URL (the API's
	// address, for tests and Linode's staging API); [os.Getenv].
	Getenv func(string) string
	// Health asks the gateways' status for rolling-reimage
	// (status.HealthClient in `tidegate linode`).
	Health Health
	// PollInterval overrides Config.PollInterval (tests).
	PollInterval time.Duration
}

// order is the sub-commands' order in the usage.
var order = []string{"upload", "deploy", "reimage", "rolling-reimage"}

// printUsage writes the usage of `tidegate linode`: each command's
// synopsis and description, and the common flags.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: tidegate linode COMMAND [flags]   (API token in LINODE_TOKEN)")
	for _, name := range order {
		c := commands[name]
		fmt.Fprintf(w, "\n  %s\n%s\n", strings.TrimPrefix(c.synopsis, "tidegate linode "), "  "+strings.ReplaceAll(c.doc, "\n", "\n  "))
	}
	fmt.Fprintln(w, "\n\"tidegate linode COMMAND -h\" lists a command's flags; required ones say so.")
}

// commands are the sub-commands: their usage line (as in usage), what they
// do, their flags and which of those are required, and the optional
// positional argument they take, if any. flags registers them on fs; every
// command shares the same variables (opts).
var commands = map[string]struct {
	synopsis, doc string
	flags         []string
	required      []string
	optionalArg   string
}{
	"upload": {
		synopsis:    "tidegate linode upload --region R [--label L] [--description D] [IMAGE.img.gz]",
		doc:         "  Uploads the firmware (default out/tidegate.img.gz) as a custom image and\n  prints its ID once Linode has processed it.",
		flags:       []string{"region", "label", "description"},
		required:    []string{"region"},
		optionalArg: "IMAGE.img.gz",
	},
	"deploy": {
		synopsis: "tidegate linode deploy --site site.yaml --image private/ID --region R --type T [--name NAME]...",
		doc:      "  Creates the pair's instances (or the named ones) from the image, with the\n  site YAML as user data, and boots them.",
		flags:    []string{"site", "image", "region", "type", "name", "tag", "vlan", "ipam"},
		required: []string{"site", "image", "region", "type"},
	},
	"reimage": {
		synopsis: "tidegate linode reimage --site site.yaml --image private/ID --name NAME [--name NAME]",
		doc: "  Rebuilds the named instances with the image, re-applying user data and\n  profile, one after the other without waiting for health. Name them: both\n" +
			"  at once would take the site down; rolling-reimage reimages a serving pair\n  without downtime.",
		flags:    []string{"site", "image", "name", "vlan", "ipam"},
		required: []string{"site", "image", "name"},
	},
	"rolling-reimage": {
		synopsis: "tidegate linode rolling-reimage --site site.yaml --image private/ID [--force]",
		doc:      "  Reimages the backup, hands over, reimages the master: the site stays up.",
		flags:    []string{"site", "image", "vlan", "ipam", "status", "force"},
		required: []string{"site", "image"},
	},
}

// opts are the values of every command's flags.
type opts struct {
	region, label, desc, site, image, typ, vlan string
	force                                       bool
	names, tags                                 cmdline.List
	ipam, status                                cmdline.Map
}

// flagSet returns the flags of command cmd, bound to o.
func flagSet(cmd string, o *opts) *cmdline.FlagSet {
	c := commands[cmd]
	fs := cmdline.New("tidegate linode "+cmd, c.synopsis, c.doc)
	o.ipam, o.status = cmdline.Map{}, cmdline.Map{}
	strs := map[string]struct {
		p     *string
		usage string
	}{
		"region":      {&o.region, "Linode `region`, e.g. us-east"},
		"label":       {&o.label, "the image's `label` (default tidegate-YYYYMMDD-HHMM)"},
		"description": {&o.desc, "the image's `description`"},
		"site":        {&o.site, "the site YAML `file`, which becomes the user data"},
		"image":       {&o.image, "custom image `ID`, e.g. private/12345 (what upload prints)"},
		"type":        {&o.typ, "Linode `plan` for new instances, e.g. g6-standard-1"},
		"vlan":        {&o.vlan, "Linode VLAN `label` (default: the site's name)"},
	}
	vars := map[string]struct {
		v     flag.Value
		usage string
	}{
		"name":   {&o.names, "a gateway to act on, by its Linode `label` (repeat)"},
		"tag":    {&o.tags, "a `tag` for new instances (repeat)"},
		"ipam":   {o.ipam, "the VLAN address of a gateway without vlan_address, as `NAME=ADDR/LEN` (repeat)"},
		"status": {o.status, "where a gateway's status API answers, as `NAME=ADDR` (repeat; default its public IPv4)"},
	}
	for _, f := range c.flags {
		if s, ok := strs[f]; ok {
			fs.StringVar(s.p, f, "", s.usage)
		} else if v, ok := vars[f]; ok {
			fs.Var(v.v, f, v.usage)
		} else if f == "force" {
			fs.BoolVar(&o.force, f, false, "go on even when the pair is not one healthy master and one healthy backup")
		} else {
			panic("linode: no flag " + f)
		}
	}
	fs.Require(c.required...)
	if c.optionalArg != "" {
		fs.Positional(0, 1, c.optionalArg)
	} else {
		fs.Positional(0, 0, "")
	}
	return fs
}

// Run runs one command and returns the process exit code: 0 on success, 1
// when the command failed, 2 for a usage error.
func (c *CLI) Run(ctx context.Context, args []string) int {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if len(args) == 0 {
		printUsage(c.Stderr)
		return cmdline.Usage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(c.Stdout)
		return cmdline.OK
	}
	cmd, args := args[0], args[1:]
	if _, ok := commands[cmd]; !ok {
		fmt.Fprintf(c.Stderr, "tidegate linode: unknown command %q\n", cmd)
		printUsage(c.Stderr)
		return cmdline.Usage
	}
	var o opts
	fs := flagSet(cmd, &o)
	pos, code, ok := fs.Parse(args, c.Stdout, c.Stderr)
	if !ok {
		return code
	}
	ipam := map[string]netip.Prefix{}
	for k, v := range o.ipam {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return fs.Fail(c.Stderr, "--ipam %s: %v", k, err)
		}
		ipam[k] = p
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
		return c.upload(ctx, client, o, pos)
	}
	pair, site, err := c.pair(o, ipam)
	if err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 1
	}
	if cmd == "rolling-reimage" {
		return c.rollingReimage(ctx, client, o, pair, site)
	}
	selected, err := pick(pair, o.names)
	if err != nil {
		return fs.Fail(c.Stderr, "%v", err)
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

// upload uploads the image at pos[0] (or out/tidegate.img.gz) and prints
// its ID.
func (c *CLI) upload(ctx context.Context, client *Client, o opts, pos []string) int {
	path := "out/tidegate.img.gz"
	if len(pos) == 1 {
		path = pos[0]
	}
	if o.label == "" {
		o.label = "tidegate-" + time.Now().UTC().Format("20060102-1504")
	}
	img, err := client.Upload(ctx, UploadOptions{Path: path, Region: o.region, Label: o.label, Description: o.desc})
	if err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 1
	}
	fmt.Fprintln(c.Stdout, img.ID)
	return 0
}

// pair reads the site file and returns its two gateways as Linodes of the
// options' region, type, image and VLAN.
func (c *CLI) pair(o opts, ipam map[string]netip.Prefix) ([2]Gateway, *configs.Site, error) {
	data, err := os.ReadFile(o.site)
	if err != nil {
		return [2]Gateway{}, nil, err
	}
	pair, site, err := SiteGateways(data, Gateway{Region: o.region, Type: o.typ, Image: o.image, VLAN: o.vlan, Tags: o.tags}, ipam)
	if err != nil {
		return [2]Gateway{}, nil, fmt.Errorf("%s: %v", o.site, err)
	}
	for i := range pair {
		pair[i].StatusAddress = o.status[pair[i].Label]
	}
	return pair, site, nil
}

// rollingReimage reimages the pair one gateway at a time.
func (c *CLI) rollingReimage(ctx context.Context, client *Client, o opts, pair [2]Gateway, site *configs.Site) int {
	if len(site.Status.Allow) == 0 && (o.status[pair[0].Label] == "" || o.status[pair[1].Label] == "") {
		// The gateways' packet filter lets the status port in on the
		// public address only from status.allow.
		fmt.Fprintf(c.Stderr, "%s: no status.allow: a gateway's public address does not answer health checks; list this workstation's network in status.allow, or run from a VLAN host with --status LABEL=VLAN-ADDRESS\n", o.site)
	}
	if err := client.RollingReimage(ctx, pair, c.Health, RollingOptions{Force: o.force}); err != nil {
		fmt.Fprintln(c.Stderr, err)
		return 1
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
