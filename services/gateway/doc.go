// Package gateway is the tidegate gateway process: the child that PID 1
// supervises, or an ordinary process started with --config and --name.
//
// On the appliance it brings up the public interface by DHCP, learns its
// identity, VLAN address and site configuration from the Linode Metadata
// Service, configures the VLAN interface and starts the services (IPsec, BGP,
// VRRP) for its own section of the configuration. A configuration that does
// not validate never stops the box: the errors are printed on the console
// and repeated while the gateway keeps polling the Metadata Service, so a
// corrected user data is picked up without a reboot.
package gateway
