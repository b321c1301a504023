# tidegate on Linode with Terraform: the firmware image and the gateway pair.
# See README.md. Not run in CI (no terraform there); `tidegate linode` does the
# same through the API and is tested.

terraform {
  required_version = ">= 1.3"
  required_providers {
    linode = {
      source  = "linode/linode"
      version = ">= 2.9" # metadata user data and image uploads with cloud_init
    }
    random = {
      source = "hashicorp/random"
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

  # ipam_address per gateway: vlan_address when the site pins it, otherwise
  # var.ipam_addresses[name].
  gateways = {
    for g in local.site.gateways : g.name => {
      ipam_address = try(g.vlan_address, var.ipam_addresses[g.name])
    }
  }
}

# The firmware: `make image` writes out/tidegate.img.gz. A new file (another
# hash) replaces the image; the instances below then rebuild from it.
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

resource "linode_instance" "gateway" {
  for_each = local.gateways

  label  = each.key # must equal the gateway's name in the site YAML
  region = var.region
  type   = var.type
  tags   = ["tidegate", "tidegate-${local.site.site}"]

  # The same site YAML on both; each gateway finds its section by label.
  metadata {
    user_data = base64encode(local.site_yaml)
  }

  # The image's disk, deployed from the uploaded image. The firmware has no
  # login; the API still wants a root password for an image deployment.
  disk {
    label     = "tidegate"
    size      = var.disk_size
    image     = linode_image.tidegate.id
    root_pass = random_password.root[each.key].result
  }

  # Direct Disk: the image's MBR boots the kernel it carries. eth0 public
  # (DHCP), eth1 on the site's VLAN with this gateway's ipam_address.
  config {
    label       = "tidegate"
    kernel      = "linode/direct-disk"
    root_device = "/dev/sda"

    devices {
      sda {
        disk_label = "tidegate"
      }
    }

    # Linode's helpers edit a distribution's files on the disk; the image
    # has none and must stay as built.
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
      label        = coalesce(var.vlan_label, local.site.site)
      ipam_address = each.value.ipam_address
    }
  }

  boot_config_label = "tidegate"
  booted            = true

  # Terraform creates the pair; a new image or a changed site YAML reaches it
  # through `tidegate linode rolling-reimage`, one gateway at a time. Letting
  # Terraform apply them would rebuild both gateways at once: an outage.
  lifecycle {
    ignore_changes = [disk, metadata]
  }
}

resource "random_password" "root" {
  for_each = local.gateways
  length   = 40
  special  = true
}
