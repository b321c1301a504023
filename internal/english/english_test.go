package english

import "testing"

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "routes"}, {1, "route"}, {2, "routes"}, {-1, "routes"}} {
		if got := Plural(tc.n, "route"); got != tc.want {
			t.Errorf("Plural(%d, route) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
