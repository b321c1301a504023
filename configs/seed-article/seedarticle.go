// Package seedarticle holds the seed article's keepalived configurations
// (docs/seed-article.md), verbatim, for the tests that hold tidegate and
// the seed stack to them.
//
// Only tests import it.
package seedarticle

import (
	"embed"
	"testing"
)

//go:embed keepalived-*.conf
var files embed.FS

// Keepalived returns the article's keepalived.conf for gateway ("vpn-gw-1"
// or "vpn-gw-2"): VRID 10, priority 100/99, advert_int 1, auth PASS
// "password", VIP 10.0.1.200 on eth1.
func Keepalived(t testing.TB, gateway string) string {
	t.Helper()
	b, err := files.ReadFile("keepalived-" + gateway + ".conf")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
