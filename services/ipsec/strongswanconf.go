package ipsec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// Plugins is what charon loads, in order. Only what IKEv2/IKEv1 with
// pre-shared keys over route-based XFRM needs: openssl provides every
// cipher, hash, PRF and DH group AWS accepts; kdf gives prf+ for PRFs
// OpenSSL's HKDF cannot do; random and nonce feed the nonces and SPIs. No
// certificate plugins: there are no certificates. The image must ship each
// plugin's library closure (openssl -> libcrypto).
var Plugins = []string{"random", "nonce", "openssl", "kdf", "kernel-netlink", "socket-default", "vici"}

// Retransmission settings: with a 10 s DPD delay, retransmits after 2, 3,
// 4.5 and 6.75 s and a last wait of 10.1 s declare a dead peer about 30 s
// after its last sign of life (AWS's DPD timeout), where charon's defaults
// (5 tries, 4 s, base 1.8) take 165 s.
const (
	retransmitTries   = 4
	retransmitTimeout = "2.0"
	retransmitBase    = "1.5"
)

// charonDir is RunDir as charon sees it when it runs with RunDir mounted on
// /run (see doc.go).
const charonDir = "/run"

const (
	confName   = "strongswan.conf"
	socketName = "charon.vici"
)

// confTmpl is charon's whole configuration. Routes are BGP's job over the
// XFRM interfaces, so charon installs none and keeps no routing table or
// rule of its own (routing_table = 0). It includes nothing, so the
// system's /etc/strongswan.d never applies; load_modular stays off, so
// "load" is the complete plugin list. Logging goes to stderr only (the
// service forwards it to its logger) at levels that never print keys: 4
// would, and 1 does not print packets either.
var confTmpl = template.Must(template.New("").Parse(`# Written by tidegate's ipsec service on every charon start; edits are lost.
charon {
	load = {{.Plugins}}
	install_routes = no
	install_virtual_ip = no
	routing_table = 0
	retransmit_tries = {{.Tries}}
	retransmit_timeout = {{.Timeout}}
	retransmit_base = {{.Base}}
	plugins {
		vici {
			socket = unix://{{.Socket}}
		}
	}
	syslog {
	}
	filelog {
		stderr {
			default = 1
			net = 0
			enc = 0
			asn = 0
			job = 0
			ike_name = yes
		}
	}
}
`))

// writeConf writes strongswan.conf into runDir, with paths as charon will
// see them (dir: charonDir when RunDir is mounted on /run, else runDir). It
// returns the file's path as charon sees it.
func writeConf(runDir, dir string) (string, error) {
	var b bytes.Buffer
	err := confTmpl.Execute(&b, map[string]any{
		"Plugins": strings.Join(Plugins, " "),
		"Tries":   retransmitTries,
		"Timeout": retransmitTimeout,
		"Base":    retransmitBase,
		"Socket":  filepath.Join(dir, socketName),
	})
	if err != nil {
		return "", fmt.Errorf("ipsec: rendering strongswan.conf: %w", err)
	}
	tmp := filepath.Join(runDir, "."+confName)
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("ipsec: writing strongswan.conf: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(runDir, confName)); err != nil {
		return "", fmt.Errorf("ipsec: writing strongswan.conf: %w", err)
	}
	return filepath.Join(dir, confName), nil
}
