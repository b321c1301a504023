package pid1

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/tidegate/tidegate/init/console"
	"golang.org/x/sys/unix"
)

// How long the gateway may take for its planned handover (VRRP priority 0,
// wait for the peer's first advert) before PID 1 kills it and powers off.
const handoverGrace = 15 * time.Second

// Main is process 1. It never returns: the kernel panics when PID 1 exits, so
// even a panic here ends in a loop that keeps reaping and leaves the console
// usable rather than a dead machine.
func Main(gateway []string) {
	log := console.Default().With("svc", "init")
	defer func() {
		if p := recover(); p != nil {
			log.Error("PID 1 panicked; staying up without a gateway", "panic", p)
		}
		r := processReaper()
		for {
			time.Sleep(time.Minute)
			r.reapAll()
		}
	}()
	run(log, gateway)
}

func run(log *slog.Logger, gateway []string) {
	if err := mountAll(); err != nil {
		log.Error("mounts", "err", err)
	}
	if n, err := loadModules(); err != nil {
		log.Error("kernel modules", "loaded", n, "err", err)
	} else {
		log.Info("kernel modules loaded", "count", n)
	}
	// Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)

	r := processReaper()
	sup := newSupervisor("gateway", gateway, console.Default().With("svc", "init"), r)
	go sup.run()

	power := make(chan struct{}, 1)
	go watchPowerButton(log, power)
	sigs := make(chan os.Signal, 4)
	// busybox init's conventions: TERM/INT reboot, USR1 halt, USR2 and PWR power off.
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPWR)

	cmd, why := unix.LINUX_REBOOT_CMD_POWER_OFF, "power button"
	select {
	case <-power:
	case s := <-sigs:
		why = "signal " + s.String()
		switch s {
		case unix.SIGTERM, unix.SIGINT:
			cmd = unix.LINUX_REBOOT_CMD_RESTART
		case unix.SIGUSR1:
			cmd = unix.LINUX_REBOOT_CMD_HALT
		}
	}
	shutdown(log, sup, cmd, why)
}

// shutdown lets the gateway hand over, ends every other process, and powers
// off or reboots. There is no disk state to flush beyond sync.
func shutdown(log *slog.Logger, sup *supervisor, cmd int, why string) {
	log.Info("shutting down", "why", why)
	ctx, cancel := context.WithTimeout(context.Background(), handoverGrace+5*time.Second)
	sup.Stop(ctx, handoverGrace)
	cancel()
	_ = unix.Kill(-1, unix.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	_ = unix.Kill(-1, unix.SIGKILL)
	unix.Sync()
	log.Info("bye")
	if err := unix.Reboot(cmd); err != nil {
		log.Error("reboot syscall failed", "err", err)
	}
}
