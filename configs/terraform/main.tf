# tidegate on Linode with Terraform: the firmware image and the gateway pair,
# built as `tidegate linode upload` and `tidegate linode deploy`
# (scripts/linode) build them. See README.md; not run here (no terraform on
# the development machine or in CI).

terraform {
  required_version = ">= 1.3"
  required_providers {
    linode = {
      source = "linode/linode"
      # 3.x: linode_instance_config with device blocks, metadata user data,
      # image uploads with cloud_init. A major version may rename them.
      version = "~> 3.0"
    }
  }
}

# The token comes from LINODE_TOKEN.
provider "linode" {}

locals {
  # The site configuration is the single source: gateway names (= Linode
  # labels), VLAN addresses and everything else come from it.
  site_yaml = file(var.site_file)
  site      = yamldecode(local.site_yaml)

  vlan_label = coalesce(var.vlan_label, local.site.site)

  # ipam_address per gateway: vlan_address when the site pins it, otherwise
  # var.ipam_addresses[name].
  gateways = {
    for g in local.site.gateways : g.name => {
      ipam_address = try(g.vlan_address, var.ipam_addresses[g.name])
    }
  }
}

# The firmware: `make image` writes out/tidegate.img.gz. A file with another
# hash replaces this image (file_hash forces a new one); the instances keep
# running what they were deployed from (ignore_changes below) until
# `tidegate linode rolling-reimage` moves them to the new image_id.
resource "linode_image" "tidegate" {
  label       = var.image_label
  description = "tidegate firmware (${filemd5(var.image_file)})"
  region      = var.region
  file_path   = var.image_file
  file_hash   = filemd5(var.image_file)

  # The image reads the Metadata Service itself; Linode accepts user data
  # only for instances of images marked cloud-init compatible.
  cloud_init = true
}

# One instance per gateway, deployed from the image with the site YAML as
# user data and not booted: Linode makes the image's disk (the plan's disk
# less 512 MB of swap) and a profile of its own, which boots neither the
# image's kernel nor the VLAN. The profile below is the one it boots.
resource "linode_instance" "gateway" {
  for_each = local.gateways

  label  = each.key # must equal the gateway's name in the site YAML
  region = var.region
  type   = var.type
  tags   = concat(var.tags, ["tidegate", "tidegate-${local.site.site}"])

  image = linode_image.tidegate.id
  # No root_pass: the provider makes a random one and keeps it out of the
  # state. The firmware has no login; the API wants a password anyway.

  # The same site YAML on both; each gateway finds its section by label.
  metadata {
    user_data = base64encode(local.site_yaml)
  }

  booted = false

  lifecycle {
    # A changed image would replace both instances at once (new public
    # addresses, an outage), and Linode takes user data only when an image
    # is deployed: both reach a running pair through `tidegate linode
    # rolling-reimage`, one gateway at a time. booted: the profile below
    # boots the instance, which this resource created switched off.
    ignore_changes = [image, metadata, booted]
  }
}

# The instances' disks, to find the one deployed from the image.
data "linode_instances" "gateway" {
  filter {
    name   = "id"
    values = [for inst in linode_instance.gateway : inst.id]
  }
}

locals {
  # The image's disk of each gateway: the one that is not swap.
  boot_disk = {
    for inst in data.linode_instances.gateway.instances :
    inst.label => one([for d in inst.disk : d.id if d.filesystem != "swap"])
  }
}

# The profile tidegate boots: Direct Disk (the image's MBR starts the kernel
# it carries), eth0 public (DHCP), eth1 on the site's VLAN with this
# gateway's ipam_address. scripts/linode's deploy makes the same one
# (ProfileLabel, Kernel).
resource "linode_instance_config" "tidegate" {
  for_each = local.gateways

  linode_id   = linode_instance.gateway[each.key].id
  label       = "tidegate"
  comments    = "tidegate: direct-disk boot, eth0 public, eth1 on VLAN ${local.vlan_label}"
  kernel      = "linode/direct-disk"
  root_device = "/dev/sda"

  device {
    device_name = "sda"
    disk_id     = local.boot_disk[each.key]
  }

  # Linode's helpers edit a distribution's files on the disk; the image has
  # none and must stay as built.
  helpers {
    updatedb_disabled  = true
    distro             = false
    modules_dep        = false
    network            = false
    devtmpfs_automount = false
  }

  interface {
    purpose = "public"
  }

  interface {
    purpose      = "vlan"
    label        = local.vlan_label
    ipam_address = each.value.ipam_address
  }

  booted = true
}
