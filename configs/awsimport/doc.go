// Package awsimport turns the customer gateway configuration that AWS issues
// for a Site-to-Site VPN connection into a tidegate site configuration.
//
// AWS describes each VPN connection in an XML document, the
// CustomerGatewayConfiguration field of
//
//	aws ec2 describe-vpn-connections --vpn-connection-ids vpn-0123... \
//	    --query 'VpnConnections[0].CustomerGatewayConfiguration' --output text > vpn-1.xml
//
// or that command's JSON output for the one connection, from which the XML is
// taken. The VPC console's "Download configuration" files (text for people,
// one per vendor, "Generic" included) are not read.
//
// The XML has a vpn_connection root holding two ipsec_tunnel elements, each
// with the customer gateway's and the virtual private gateway's outside and
// inside addresses and BGP ASNs, and the IKE and IPsec parameters including
// the pre-shared key. tidegate gives each gateway of the pair its own VPN
// connection, so a site is made from two such documents, one per gateway.
//
// ParseConnection reads one document strictly: an element it does not know,
// a missing or repeated element, a value AWS would not have written (a
// non-/30 inside CIDR, inside addresses that are not the /30's first two,
// a pre-shared key outside AWS's rules) is an error naming the element and
// its line, since guessing here would only move the failure to a tunnel that
// never comes up. Errors never quote a pre-shared key. The input is bounded
// before it is read (input.go): at most MaxInput bytes (1 MiB; AWS's
// document is about 20 KiB), elements nested at most MaxDepth (64) deep and
// at most MaxElements (4096) of them, since encoding/xml has no limit of its
// own. ReadConnectionFile reads a file through the size bound and names it
// in its errors.
//
// Site combines the connections with the few facts AWS does not know (the
// site's name, the VLAN, the virtual IP, the VRRP VRID) into the YAML
// document that goes into both Linodes' user data, and checks the result with
// configs.Parse before returning it.
//
// # Tunnel order and names
//
// AWS does not promise the order of the ipsec_tunnel elements, and it may
// differ between two downloads of the same connection. Tunnels are therefore
// sorted by their inside CIDR and named after their gateway: for gateway
// "vpn-gw-1" the tunnels are "vpn-1a" and "vpn-1b" (the gateway name's
// trailing number, or its position in the list when it has none). The first
// tunnel gets the lower MED (configs' default), so the choice is stable across
// re-imports.
//
// # Algorithms
//
// The algorithms AWS reports are mapped to strongSwan proposal syntax
// (aes-128-cbc -> aes128, hmac-sha1-96 -> sha1, group2 -> modp1024,
// aes-128-gcm-16 -> aes128gcm16, ...). AWS's generic document lists one
// algorithm of each kind even though a new connection accepts many more;
// Options.DefaultProposals leaves the proposals out so that configs' stronger
// defaults (which AWS accepts unless the tunnel options were narrowed) apply.
package awsimport
