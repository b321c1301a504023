package awsimport

import (
	"fmt"

	"github.com/tidegate/tidegate/configs"
)

// An Error is one problem found in AWS's customer gateway configuration:
// the site configuration's error type, so both read alike ("file:line:
// path: msg"), with Path naming the XML element, e.g.
// "vpn_connection/ipsec_tunnel[2]/ike/pre_shared_key". Msg never contains a
// pre-shared key.
type Error = configs.Error

// Errors lists every problem found, in document order.
type Errors = configs.Errors

// inFile sets File on every error of err that has none.
func inFile(err error, file string) error {
	switch e := err.(type) {
	case Errors:
		for _, x := range e {
			if x.File == "" {
				x.File = file
			}
		}
	case *Error:
		if e.File == "" {
			e.File = file
		}
	default:
		return fmt.Errorf("%s: %w", file, err)
	}
	return err
}
