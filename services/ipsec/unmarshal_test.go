package ipsec

import (
	"testing"

	"github.com/strongswan/govici/vici"
)

// TestUnmarshalMalformed: a list-sa whose child-sas is a key-value, not a
// section, is an error, not a panic (govici panics on it).
func TestUnmarshalMalformed(t *testing.T) {
	m := vici.NewMessage()
	if err := m.Set("state", "ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("child-sas", "none"); err != nil {
		t.Fatal(err)
	}
	var x sa
	if err := unmarshal(m, &x); err == nil {
		t.Fatal("a child-sas key-value decoded without an error")
	}
}
