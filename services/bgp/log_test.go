package bgp

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

func TestGoBGPLogger(t *testing.T) {
	var buf bytes.Buffer
	l := newGoBGPLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	l.Info("Peer Up", gobgplog.Fields{"Topic": "Peer", "Key": "169.254.10.1"})
	l.Debug("hidden", nil)
	if got := buf.String(); !strings.Contains(got, `msg="Peer Up" component=gobgp Key=169.254.10.1 Topic=Peer`) || strings.Contains(got, "hidden") {
		t.Errorf("log output %q", got)
	}

	// Fatal must not exit the process: it panics with a FatalError that a
	// recover (Run's, on the Serve goroutine) can turn into an error.
	func() {
		defer func() {
			var fe *FatalError
			if err, ok := recover().(error); !ok || !errors.As(err, &fe) || fe.Msg != "boom" {
				t.Errorf("recovered %v, want a FatalError", err)
			}
		}()
		l.Fatal("boom", gobgplog.Fields{"Topic": "Table"})
	}()
	if !strings.Contains(buf.String(), `level=ERROR msg="fatal: boom"`) {
		t.Errorf("fatal not logged: %q", buf.String())
	}
}
