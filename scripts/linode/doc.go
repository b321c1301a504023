// Package linode deploys tidegate on Linode through the Linode API v4, with
// github.com/linode/linodego: it uploads the firmware image, creates or
// reimages the pair's instances, and reimages a running pair one gateway at
// a time without taking the site down.
//
// The steps follow the API:
//
//   - Upload: POST /images/upload returns a custom image in
//     "pending_upload" and a URL; the gzip-compressed raw disk
//     (out/tidegate.img.gz) is PUT to that URL, and the image is polled until
//     its status is "available". The image is declared cloud_init: the API
//     takes user data only for instances of images with that capability.
//   - Deploy: POST /linode/instances from the image, not booted, with the
//     site YAML as user data (metadata.user_data, base64); then the
//     instance's config profiles are replaced by one whose kernel is
//     "linode/direct-disk" (the image carries its own kernel in its MBR),
//     with eth0 on the public Internet and eth1 on the site's VLAN with the
//     gateway's ipam_address, and the instance is booted with it.
//   - Reimage: POST /linode/instances/{id}/rebuild with the new image. A
//     rebuild replaces the disks and drops the config profiles and the user
//     data, so both are applied again (the user data in the rebuild request,
//     the profile afterwards) before booting.
//   - RollingReimage: the backup gateway first; once it reports healthy,
//     a planned handover on the master (a Linode shutdown presses the ACPI
//     power button, and tidegate resigns VRRP mastership on power-off so the
//     backup takes over at once rather than after the master-down
//     interval), then the old master is reimaged. Health is asked through
//     the Health interface, which status.HealthClient implements: each
//     gateway's GET /healthz.
//
// The appliance has no login: instances are created with a random root
// password that is never shown, because the API insists on one when an image
// is deployed.
//
// CLI is `tidegate linode`: each command (upload, deploy, reimage,
// rolling-reimage) has its own flags, and its usage (-h, on standard
// output) marks the required ones, which are checked before any API call.
//
// configs/terraform creates the same image, instances and profile with
// Terraform's Linode provider (its README lists the one difference, the
// profile Linode makes that Terraform cannot delete);
// TestTerraformMatchesDeploy keeps the two in step.
package linode
