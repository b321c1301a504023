package cmdline

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

func newTestSet() (*FlagSet, *string, *bool) {
	fs := New("tidegate thing", "tidegate thing FILE --name NAME", "  does a thing")
	name := fs.String("name", "", "the gateway's `name`")
	v := fs.Bool("v", false, "say more")
	fs.String("mode", "fast", "how to do it")
	fs.Require("name")
	return fs, name, v
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		ok     bool
		code   int
		pos    []string
		stdout []string // substrings
		stderr []string
	}{
		{args: []string{"a.yaml", "--name", "x"}, ok: true, pos: []string{"a.yaml"}},
		{args: []string{"--name=x", "a", "-v", "b"}, ok: true, pos: []string{"a", "b"}},
		{args: []string{"--name", "x", "--", "-v"}, ok: true, pos: []string{"-v"}},
		{args: []string{"-h"}, code: OK, stdout: []string{"usage: tidegate thing FILE --name NAME\n", "  does a thing\n", "  --name NAME\n      the gateway's name (required)\n", "  --mode STRING\n      how to do it (default fast)\n", "  -v\n"}},
		{args: []string{"a.yaml", "--help"}, code: OK, stdout: []string{"usage: "}},
		{args: []string{"-help"}, code: OK, stdout: []string{"usage: "}},
		{args: []string{"a.yaml"}, code: Usage, stderr: []string{"tidegate thing: --name is required\n", "usage: "}},
		{args: []string{"--nope"}, code: Usage, stderr: []string{"tidegate thing: flag provided but not defined: -nope\n", "usage: "}},
		{args: []string{"--name"}, code: Usage, stderr: []string{"flag needs an argument", "usage: "}},
	} {
		fs, _, _ := newTestSet()
		var o, e bytes.Buffer
		pos, code, ok := fs.Parse(tt.args, &o, &e)
		if ok != tt.ok || code != tt.code || !slices.Equal(pos, tt.pos) {
			t.Errorf("%q: pos %q code %d ok %v, want %q %d %v", tt.args, pos, code, ok, tt.pos, tt.code, tt.ok)
		}
		for _, want := range tt.stdout {
			if !strings.Contains(o.String(), want) {
				t.Errorf("%q: stdout lacks %q:\n%s", tt.args, want, o.String())
			}
		}
		for _, want := range tt.stderr {
			if !strings.Contains(e.String(), want) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.args, want, e.String())
			}
		}
		// Help goes to stdout only, errors to stderr only.
		if (len(tt.stdout) > 0 && e.Len() > 0) || (len(tt.stdout) == 0 && o.Len() > 0) {
			t.Errorf("%q: stdout %q stderr %q", tt.args, o.String(), e.String())
		}
	}
}

func TestRequireBoth(t *testing.T) {
	fs := New("x", "", "")
	fs.String("a", "", "")
	fs.String("b", "", "")
	fs.Require("a", "b")
	var e bytes.Buffer
	if _, code, _ := fs.Parse(nil, &e, &e); code != Usage || !strings.HasPrefix(e.String(), "x: --a and --b are required\n") {
		t.Errorf("code %d %q", code, e.String())
	}
}

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		ok     bool
		code   int
		stderr string
	}{
		{args: []string{"--name", "x"}, ok: true},
		{args: []string{"--name", "x", "a.yaml"}, code: Usage, stderr: "tidegate thing: unexpected argument \"a.yaml\"\nusage: "},
		{args: []string{"a.yaml"}, code: Usage, stderr: "tidegate thing: --name is required\n"},
		{args: []string{"-h"}, code: OK},
	} {
		fs, _, _ := newTestSet()
		var o, e bytes.Buffer
		code, ok := fs.ParseFlags(tt.args, &o, &e)
		if ok != tt.ok || code != tt.code || !strings.HasPrefix(e.String(), tt.stderr) || (tt.stderr == "") != (e.Len() == 0) {
			t.Errorf("%q: code %d ok %v stderr %q, want %d %v %q", tt.args, code, ok, e.String(), tt.code, tt.ok, tt.stderr)
		}
	}
}

func TestPositional(t *testing.T) {
	for _, tt := range []struct {
		min, max int
		args     []string
		ok       bool
		stderr   string
	}{
		{1, 1, []string{"a"}, true, ""},
		{1, 1, nil, false, "x: give one FILE (got 0)\nusage: "},
		{1, 1, []string{"a", "b"}, false, "x: give one FILE (got 2)\n"},
		{2, 2, []string{"a"}, false, "x: give two FILE (got 1)\n"},
		{1, -1, []string{"a", "b", "c"}, true, ""},
		{1, -1, nil, false, "x: give at least one FILE\n"},
		{0, 1, nil, true, ""},
		{0, 1, []string{"a", "b"}, false, "x: give at most one FILE (got 2)\n"},
		{0, 0, []string{"a"}, false, "x: unexpected argument \"a\"\n"},
		{0, -1, []string{"a", "b"}, true, ""},
	} {
		fs := New("x", "x FILE", "")
		fs.Positional(tt.min, tt.max, "FILE")
		var o, e bytes.Buffer
		pos, code, ok := fs.Parse(tt.args, &o, &e)
		if ok != tt.ok || !strings.HasPrefix(e.String(), tt.stderr) || (tt.stderr == "") != (e.Len() == 0) {
			t.Errorf("%d-%d %q: code %d ok %v stderr %q, want %v %q", tt.min, tt.max, tt.args, code, ok, e.String(), tt.ok, tt.stderr)
		}
		if ok && (code != OK || !slices.Equal(pos, tt.args)) {
			t.Errorf("%d-%d %q: pos %q code %d", tt.min, tt.max, tt.args, pos, code)
		}
		if !ok && code != Usage {
			t.Errorf("%d-%d %q: code %d, want %d", tt.min, tt.max, tt.args, code, Usage)
		}
	}
}

// TestValues: the repeated flags collect every use, and a Map refuses a
// value that is not NAME=VALUE.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		args    string
		list    List
		m       Map
		wantErr string
	}{
		{"", nil, Map{}, ""},
		{"--l a --l b --m x=1 --m y=2", List{"a", "b"}, Map{"x": "1", "y": "2"}, ""},
		{"--m x=1 --m x=2", nil, Map{"x": "2"}, ""},
		{"--m x=a=b", nil, Map{"x": "a=b"}, ""},
		{"--m x", nil, Map{}, `"x": want NAME=VALUE`},
		{"--m =1", nil, Map{}, `"=1": want NAME=VALUE`},
		{"--m x=", nil, Map{}, `"x=": want NAME=VALUE`},
	} {
		var l List
		m := Map{}
		fs := New("t", "", "")
		fs.Var(&l, "l", "")
		fs.Var(m, "m", "")
		var stderr strings.Builder
		_, _, ok := fs.Parse(strings.Fields(tc.args), io.Discard, &stderr)
		if tc.wantErr != "" {
			if ok || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("%q: ok=%v, stderr %q, want %q", tc.args, ok, stderr.String(), tc.wantErr)
			}
			continue
		}
		if !ok || !slices.Equal(l, tc.list) || !maps.Equal(m, tc.m) {
			t.Errorf("%q: ok=%v list %q map %v, want %q %v (%s)", tc.args, ok, l, m, tc.list, tc.m, stderr.String())
		}
	}
}
