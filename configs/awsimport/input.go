package awsimport

import (
	"fmt"
	"io"
	"os"
)

// The importer's bounds on its input. The files come from an operator's
// download, but a wrong file (a log, a disk image, a hostile document
// that nests elements a million deep: encoding/xml has no limit of its
// own) must fail with an error, not with the importer's memory.
const (
	// MaxInput is the largest file ParseConnection reads. AWS's customer
	// gateway configuration is about 20 KiB, its JSON wrapping a little
	// more.
	MaxInput = 1 << 20
	// MaxDepth is how deep XML elements may nest. AWS's document nests
	// five deep (vpn_connection/ipsec_tunnel/customer_gateway/
	// tunnel_outside_address/ip_address).
	MaxDepth = 64
	// MaxElements is how many XML elements a document may hold; AWS's has
	// about a hundred.
	MaxElements = 4096
)

// errTooLarge is the error of input over MaxInput bytes.
func errTooLarge() error {
	return &Error{Msg: fmt.Sprintf("larger than %d bytes (1 MiB), the most the importer reads; AWS's customer gateway configuration is about 20 KiB", MaxInput)}
}

// ReadConnectionFile reads the file at path, at most MaxInput bytes of it,
// and parses it with ParseConnection. Its errors name the file.
func ReadConnectionFile(path string) (*Connection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxInput {
		return nil, inFile(errTooLarge(), path)
	}
	c, err := ParseConnection(data)
	if err != nil {
		return nil, inFile(err, path)
	}
	return c, nil
}
