variable "site_file" {
  description = "The site configuration (tidegate validate it first); it becomes both instances' user data."
  type        = string
  default     = "site.yaml"
}

variable "image_file" {
  description = "The firmware image that make image writes."
  type        = string
  default     = "../../out/tidegate.img.gz"
}

variable "image_label" {
  description = "Label of the uploaded custom image."
  type        = string
  default     = "tidegate"
}

variable "region" {
  description = "Linode region of the image and both gateways (one VLAN lives in one region)."
  type        = string
  default     = "us-east"
}

variable "type" {
  description = "Linode plan of each gateway."
  type        = string
  default     = "g6-standard-1"
}

variable "tags" {
  description = "Tags for the instances, besides tidegate and tidegate-SITE (tidegate linode deploy --tag)."
  type        = list(string)
  default     = []
}

variable "vlan_label" {
  description = "Label of the Linode VLAN the pair shares; empty means the site's name."
  type        = string
  default     = ""
}

variable "ipam_addresses" {
  description = "VLAN address (CIDR) of each gateway whose vlan_address the site leaves to the Metadata Service, by gateway name."
  type        = map(string)
  default     = {}
}
