package main

import (
	"strings"
	"testing"
)

func TestLinodeNeedsToken(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	if code, _, errOut := runCmd(t, "linode", "upload", "--region", "us-east", "x.img.gz"); code != 1 || !strings.Contains(errOut, "LINODE_TOKEN") {
		t.Errorf("linode without a token = %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "linode"); code != 2 || !strings.Contains(errOut, "rolling-reimage") {
		t.Errorf("linode usage = %d %q", code, errOut)
	}
}
