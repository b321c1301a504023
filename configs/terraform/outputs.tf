output "image_id" {
  description = "The custom image (private/ID), e.g. for tidegate linode reimage."
  value       = linode_image.tidegate.id
}

output "public_ipv4" {
  description = "Each gateway's public address: the customer gateway address to give AWS."
  value       = { for name, inst in linode_instance.gateway : name => inst.ip_address }
}
