package pid1

import (
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Linux input event constants (linux/input-event-codes.h).
const (
	evKey     = 0x01
	keyPower  = 116
	eventSize = 24 // struct input_event on 64-bit: timeval (16), type, code (2+2), value (4)
)

// watchPowerButton sends on pressed each time an ACPI power button is
// pressed: how a Linode shutdown (and QEMU's system_powerdown) asks the
// guest to power off. The button driver (button.ko) must be loaded first.
// The input device appears a moment after the module loads, so it looks
// again for a few seconds before giving up.
func watchPowerButton(log *slog.Logger, pressed chan<- struct{}) {
	for try := 0; try < 50; try++ {
		if openPowerButtons(log, pressed) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Warn("no ACPI power button found: power-off only by signal")
}

func openPowerButtons(log *slog.Logger, pressed chan<- struct{}) (found int) {
	names, _ := filepath.Glob("/sys/class/input/event*/device/name")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || !strings.Contains(strings.ToLower(string(b)), "power button") {
			continue
		}
		dev := filepath.Join("/dev/input", filepath.Base(filepath.Dir(filepath.Dir(n))))
		f, err := os.Open(dev)
		if err != nil {
			log.Warn("power button not watched", "dev", dev, "err", err)
			continue
		}
		found++
		go readPowerEvents(f, pressed)
	}
	return found
}

func readPowerEvents(r io.Reader, pressed chan<- struct{}) {
	buf := make([]byte, eventSize)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		typ := binary.NativeEndian.Uint16(buf[16:18])
		code := binary.NativeEndian.Uint16(buf[18:20])
		value := int32(binary.NativeEndian.Uint32(buf[20:24]))
		if typ == evKey && code == keyPower && value == 1 {
			select {
			case pressed <- struct{}{}:
			default:
			}
		}
	}
}
