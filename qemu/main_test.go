package qemu

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	Lock()
	os.Exit(m.Run())
}
