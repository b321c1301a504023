// Package scripts holds the build's shell scripts (deps.sh, kernel-pin.sh)
// and the Debian package list; its tests run the scripts. The Linode
// deployment client is the sub-package linode.
package scripts
