package linode

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/linode/linodego"
)

// Kernel is the config profile's kernel: boot the disk's MBR, whose
// bootloader starts the kernel the image ships.
const Kernel = "linode/direct-disk"

// ProfileLabel names the config profile tidegate creates.
const ProfileLabel = "tidegate"

// profileHelpers are the profile's boot helpers: all off. Linode's helpers
// edit a Linux distribution's files on the disk; the image has none, and
// its disk must stay as built.
var profileHelpers = linodego.InstanceConfigHelpers{UpdateDBDisabled: true}

// maxUserData is the API's limit on metadata.user_data, which counts the
// base64 text (16 KiB).
const maxUserData = 16 << 10

// A Gateway is one instance of the pair as Linode sees it.
type Gateway struct {
	// Label is the instance's label: the gateway's name in the site
	// configuration, which the gateway reads back from the Metadata Service.
	Label string
	// Region and Type are needed to create the instance (us-east,
	// g6-standard-1); a reimage keeps the instance's own.
	Region, Type string
	// Image is the custom image to deploy, e.g. private/12345.
	Image string
	// UserData is the site YAML, the same for both gateways. It is sent
	// base64-encoded as the API requires.
	UserData []byte
	// VLAN is the label of the Linode VLAN the pair shares (created by the
	// first instance that names it).
	VLAN string
	// IPAMAddress is the gateway's address on the VLAN, with the prefix
	// length (10.0.1.2/24).
	IPAMAddress netip.Prefix
	// Tags are added to the instance on creation.
	Tags []string
	// StatusAddress is where the gateway's status API answers, for
	// RollingReimage; empty means the instance's first public IPv4.
	StatusAddress string
}

func (g Gateway) check(create bool) error {
	var errs []error
	if g.Label == "" {
		errs = append(errs, errors.New("no label"))
	}
	if g.Image == "" {
		errs = append(errs, errors.New("no image"))
	}
	if create && (g.Region == "" || g.Type == "") {
		errs = append(errs, errors.New("a new instance needs a region and a type"))
	}
	if len(g.UserData) == 0 {
		errs = append(errs, errors.New("no user data (the site YAML)"))
	} else if n := base64.StdEncoding.EncodedLen(len(g.UserData)); n > maxUserData {
		errs = append(errs, fmt.Errorf("the site YAML is %d bytes base64-encoded; Linode's user data takes at most %d", n, maxUserData))
	}
	if g.VLAN == "" {
		errs = append(errs, errors.New("no VLAN label"))
	}
	if !g.IPAMAddress.IsValid() || !g.IPAMAddress.Addr().Is4() {
		errs = append(errs, errors.New("no IPv4 ipam_address for the VLAN interface"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway %q: %w", g.Label, err)
	}
	return nil
}

func (g Gateway) metadata() *linodego.InstanceMetadataOptions {
	return &linodego.InstanceMetadataOptions{UserData: base64.StdEncoding.EncodeToString(g.UserData)}
}

// Find returns the instance labelled label, or nil when there is none.
// Labels are unique per account.
func (c *Client) Find(ctx context.Context, label string) (*linodego.Instance, error) {
	f, err := json.Marshal(map[string]string{"label": label})
	if err != nil {
		return nil, err
	}
	list, err := c.api.ListInstances(ctx, linodego.NewListOptions(0, string(f)))
	if err != nil {
		return nil, fmt.Errorf("looking up instance %s: %w", label, err)
	}
	// The filter is the API's; check again rather than trust it blindly.
	for i := range list {
		if list[i].Label == label {
			return &list[i], nil
		}
	}
	return nil, nil
}

// Deploy creates the gateway's instance from its image and boots it with
// tidegate's config profile. An existing instance with the label is an
// error: Reimage replaces its image.
func (c *Client) Deploy(ctx context.Context, g Gateway) (*linodego.Instance, error) {
	if err := g.check(true); err != nil {
		return nil, err
	}
	if old, err := c.Find(ctx, g.Label); err != nil {
		return nil, err
	} else if old != nil {
		return nil, fmt.Errorf("instance %s already exists (id %d); use reimage to deploy a new image on it", g.Label, old.ID)
	}
	pass, err := c.rootPassword()
	if err != nil {
		return nil, err
	}
	booted := false
	inst, err := c.api.CreateInstance(ctx, linodego.InstanceCreateOptions{
		Region:   g.Region,
		Type:     g.Type,
		Label:    g.Label,
		Image:    g.Image,
		RootPass: pass,
		Metadata: g.metadata(),
		Tags:     g.Tags,
		// Not booted: the profile Linode creates would boot the image with
		// its own kernel choice and without the VLAN.
		Booted: &booted,
	})
	if err != nil {
		return nil, fmt.Errorf("creating instance %s: %w", g.Label, err)
	}
	c.progress("%s: created instance %d from %s in %s, waiting for its disks", g.Label, inst.ID, g.Image, g.Region)
	if inst, err = c.waitInstance(ctx, inst, linodego.InstanceOffline); err != nil {
		return nil, err
	}
	return c.profileAndBoot(ctx, inst, g)
}

// Reimage rebuilds the gateway's existing instance from g.Image, applies the
// user data and the config profile again (a rebuild drops both) and boots it.
// The instance keeps its ID, IP addresses and type.
func (c *Client) Reimage(ctx context.Context, g Gateway) (*linodego.Instance, error) {
	if err := g.check(false); err != nil {
		return nil, err
	}
	inst, err := c.Find(ctx, g.Label)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		return nil, fmt.Errorf("no instance labelled %s; use deploy to create it", g.Label)
	}
	return c.reimage(ctx, inst, g)
}

func (c *Client) reimage(ctx context.Context, inst *linodego.Instance, g Gateway) (*linodego.Instance, error) {
	pass, err := c.rootPassword()
	if err != nil {
		return nil, err
	}
	booted := false
	c.progress("%s: rebuilding instance %d from %s", g.Label, inst.ID, g.Image)
	inst, err = c.api.RebuildInstance(ctx, inst.ID, linodego.InstanceRebuildOptions{
		Image:    g.Image,
		RootPass: pass,
		Metadata: g.metadata(),
		Booted:   &booted,
	})
	if err != nil {
		return nil, fmt.Errorf("rebuilding %s: %w", g.Label, err)
	}
	if inst, err = c.waitInstance(ctx, inst, linodego.InstanceOffline); err != nil {
		return nil, err
	}
	return c.profileAndBoot(ctx, inst, g)
}

// profileAndBoot replaces the instance's config profiles with tidegate's and
// boots it, waiting until it runs.
func (c *Client) profileAndBoot(ctx context.Context, inst *linodego.Instance, g Gateway) (*linodego.Instance, error) {
	disks, err := c.api.ListInstanceDisks(ctx, inst.ID, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: listing disks: %w", g.Label, err)
	}
	// The image's disk; the other one Linode makes is swap.
	var boot *linodego.InstanceDisk
	for i := range disks {
		if disks[i].Filesystem != linodego.FilesystemSwap {
			boot = &disks[i]
			break
		}
	}
	if boot == nil {
		return nil, fmt.Errorf("%s: instance %d has no disk besides swap to boot from", g.Label, inst.ID)
	}
	old, err := c.api.ListInstanceConfigs(ctx, inst.ID, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: listing config profiles: %w", g.Label, err)
	}
	// One profile only: Linode boots the last used or the only one, and a
	// leftover profile without the VLAN would bring up a gateway that cannot
	// reach its peer.
	for _, p := range old {
		if err := c.api.DeleteInstanceConfig(ctx, inst.ID, p.ID); err != nil {
			return nil, fmt.Errorf("%s: deleting config profile %q: %w", g.Label, p.Label, err)
		}
	}
	root := "/dev/sda"
	prof, err := c.api.CreateInstanceConfig(ctx, inst.ID, linodego.InstanceConfigCreateOptions{
		Label:      ProfileLabel,
		Comments:   "tidegate: direct-disk boot, eth0 public, eth1 on VLAN " + g.VLAN,
		Kernel:     Kernel,
		Devices:    linodego.InstanceConfigDeviceMap{SDA: &linodego.InstanceConfigDevice{DiskID: boot.ID}},
		RootDevice: &root,
		Helpers:    &profileHelpers,
		Interfaces: []linodego.InstanceConfigInterfaceCreateOptions{
			{Purpose: linodego.InterfacePurposePublic},
			{Purpose: linodego.InterfacePurposeVLAN, Label: g.VLAN, IPAMAddress: g.IPAMAddress.String()},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: creating the config profile: %w", g.Label, err)
	}
	if err := c.api.BootInstance(ctx, inst.ID, prof.ID); err != nil {
		return nil, fmt.Errorf("%s: booting: %w", g.Label, err)
	}
	c.progress("%s: booting profile %d (%s, VLAN %s at %s)", g.Label, prof.ID, Kernel, g.VLAN, g.IPAMAddress)
	if inst, err = c.waitInstance(ctx, inst, linodego.InstanceRunning); err != nil {
		return nil, err
	}
	c.progress("%s: running", g.Label)
	return inst, nil
}

// Shutdown powers the instance off the way the Linode Manager's "Power Off"
// does: an ACPI power-button press, on which tidegate's PID 1 resigns VRRP
// mastership and stops the services before the power goes. It waits until
// the instance is offline.
func (c *Client) Shutdown(ctx context.Context, inst *linodego.Instance) error {
	if err := c.api.ShutdownInstance(ctx, inst.ID); err != nil {
		return fmt.Errorf("shutting down %s: %w", inst.Label, err)
	}
	_, err := c.waitInstance(ctx, inst, linodego.InstanceOffline)
	return err
}
