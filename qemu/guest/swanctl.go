package guest

import (
	"bytes"
	"errors"
	"text/template"
)

// SwanctlConf is a guest's swanctl.conf, for either end of AWS's tunnels (the
// AWS peer, the seed stack): one connection per tunnel, each an IKEv2
// IKE_SA authenticated with a pre-shared key and one CHILD_SA for all IPv4
// traffic on the tunnel's XFRM interface, as tidegate's own connections
// are; then the keys.
type SwanctlConf struct {
	// Header is comment lines that say whose configuration it is.
	Header string
	// Self and Peer name this end and the other in the keys' identities
	// (id-aws, id-cgw).
	Self, Peer string
	Conns      []SwanctlConn
}

// SwanctlConn is one tunnel's connection and key.
type SwanctlConn struct {
	// Name names the connection, its CHILD_SA and its key.
	Name string
	// Local and Remote are the IKE addresses, which are also the
	// identities; Remote "%any" takes an initiator from any address.
	Local, Remote           string
	Proposals, ESPProposals string
	// IfID is the XFRM interface's if_id, both ways.
	IfID int
	// IKE and Child are this end's own settings of the connection and of
	// its CHILD_SA (timers, actions), "key = value" each, in order.
	IKE, Child []string
	PSK        string
}

var swanctlTmpl = template.Must(template.New("swanctl.conf").Parse(`{{.Header}}connections {
{{- range .Conns}}
	{{.Name}} {
		version = 2
		local_addrs = {{.Local}}
		remote_addrs = {{.Remote}}
		proposals = {{.Proposals}}
		mobike = no
{{- range .IKE}}
		{{.}}
{{- end}}
		if_id_in = {{.IfID}}
		if_id_out = {{.IfID}}
		local {
			auth = psk
			id = {{.Local}}
		}
		remote {
			auth = psk
			id = {{.Remote}}
		}
		children {
			{{.Name}} {
				local_ts = 0.0.0.0/0
				remote_ts = 0.0.0.0/0
				esp_proposals = {{.ESPProposals}}
				mode = tunnel
{{- range .Child}}
				{{.}}
{{- end}}
				if_id_in = {{.IfID}}
				if_id_out = {{.IfID}}
			}
		}
	}
{{- end}}
}
secrets {
{{- range .Conns}}
	ike-{{.Name}} {
		id-{{$.Self}} = {{.Local}}
{{- if ne .Remote "%any"}}
		id-{{$.Peer}} = {{.Remote}}
{{- end}}
		secret = "{{.PSK}}"
	}
{{- end}}
}
`))

// Render returns the file's contents.
func (s SwanctlConf) Render() ([]byte, error) {
	var b bytes.Buffer
	if err := swanctlTmpl.Execute(&b, s); err != nil {
		// The error names the template, never the data it was given.
		return nil, errors.New("guest: swanctl.conf: rendering failed")
	}
	return b.Bytes(), nil
}
