package pid1

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// espCrypto names, for the console, the kernel algorithms ESP uses with
// AWS's proposals, by what a user reads in a proposal.
var espCrypto = []struct{ label, alg string }{
	{"aes-gcm", "rfc4106(gcm(aes))"},
	{"aes-cbc", "cbc(aes)"},
	{"sha1", "sha1"},
	{"sha256", "sha256"},
	{"sha512", "sha512"},
}

// cryptoDrivers reads /proc/crypto (blocks of "key : value" lines, one
// blank line between them) and returns, for each of espCrypto's algorithms
// that is registered, the driver the kernel picks for it: the one with the
// highest priority. An algorithm that only a template provides (the
// generic C code) shows up once something first uses it, so it may be
// missing here.
func cryptoDrivers(r io.Reader) (map[string]string, error) {
	want := make(map[string]bool, len(espCrypto))
	for _, c := range espCrypto {
		want[c.alg] = true
	}
	best := map[string]string{}
	prio := map[string]int{}
	var name, driver string
	var priority int
	flush := func() {
		if p, seen := prio[name]; want[name] && driver != "" && (!seen || priority > p) {
			best[name], prio[name] = driver, priority
		}
		name, driver, priority = "", "", 0
	}
	s := bufio.NewScanner(r)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok {
			flush()
			continue
		}
		switch strings.TrimSpace(k) {
		case "name":
			name = strings.TrimSpace(v)
		case "driver":
			driver = strings.TrimSpace(v)
		case "priority":
			priority, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	flush()
	return best, s.Err()
}
