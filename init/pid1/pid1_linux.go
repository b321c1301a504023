package pid1

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/tidegate/tidegate/init/console"
	"github.com/tidegate/tidegate/internal/consolelog"
	gw "github.com/tidegate/tidegate/services/gateway"
	"golang.org/x/sys/unix"
)

// How long the gateway may take for its planned handover (VRRP priority 0,
// wait for the peer's first advert) before PID 1 kills it and powers off.
const handoverGrace = 15 * time.Second

// How long the console shell may take to exit: it holds nothing.
const shellGrace = time.Second

// Main is process 1. It never returns: the kernel panics when PID 1 exits, so
// even a panic here ends in a loop that keeps reaping and leaves the console
// usable rather than a dead machine.
//
// gateway is the gateway's command line; shell, if not nil, the console
// shell's, supervised the same way as a second child while the console is a
// terminal (Lish's serial line; not /dev/null).
func Main(gateway, shell []string) {
	log := consolelog.Default().With("svc", "init")
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
	run(log, gateway, shell)
}

func run(log *slog.Logger, gateway, shell []string) {
	initAt := console.Uptime()
	if err := mountAll(); err != nil {
		log.Error("mounts", "err", err)
	}
	n, skipped, err := loadModules()
	if err != nil {
		log.Error("kernel modules", "loaded", n, "err", err)
	} else {
		log.Info("kernel modules loaded", "count", n)
	}
	if len(skipped) > 0 {
		log.Info("kernel modules not for this CPU, skipped (the kernel's generic code does their work)", "modules", skipped)
	}
	logESPCrypto(log)
	// The gateway's boot timeline starts with PID 1's steps; the children
	// inherit the environment.
	os.Setenv(gw.BootMarksEnv, fmt.Sprintf("init=%.3f modules=%.3f", initAt.Seconds(), console.Uptime().Seconds()))
	// Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)

	r := processReaper()
	sup := newSupervisor("gateway", gateway, consolelog.Default().With("svc", "init"), r)
	// The gateway claims its virtual IPs and beats over a lifeline; the
	// shell does neither.
	sup.lifeline = true
	go sup.run()
	var shellSup *supervisor
	if shell != nil && consoleIsTerminal() {
		shellSup = newSupervisor("shell", shell, consolelog.Default().With("svc", "init"), r)
		go shellSup.run()
	}

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
	shutdown(log, sup, shellSup, cmd, why)
}

// consoleIsTerminal says whether PID 1's standard input (the kernel's
// /dev/console) is a terminal a shell can read lines from.
func consoleIsTerminal() bool {
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	return err == nil
}

// shutdown lets the gateway hand over, ends every other process, and powers
// off or reboots. There is no disk state to flush beyond sync. The shell
// (nil if none) is stopped at the same time, so that it is not restarted
// while the machine goes down.
func shutdown(log *slog.Logger, sup, shellSup *supervisor, cmd int, why string) {
	log.Info("shutting down", "why", why)
	ctx, cancel := context.WithTimeout(context.Background(), handoverGrace+5*time.Second)
	if shellSup != nil {
		go shellSup.Stop(ctx, shellGrace)
	}
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

// logESPCrypto says on the console which kernel drivers ESP uses: the CPU's
// instructions (drivers named aesni, clmulni, avx2, ni) or the generic C
// code, several times the CPU per byte.
func logESPCrypto(log *slog.Logger) {
	f, err := os.Open("/proc/crypto")
	if err != nil {
		log.Warn("kernel crypto", "err", err)
		return
	}
	defer f.Close()
	d, err := cryptoDrivers(f)
	if err != nil {
		log.Warn("kernel crypto", "err", err)
		return
	}
	var attrs []any
	for _, c := range espCrypto {
		v := d[c.alg]
		if v == "" {
			v = "generic"
		}
		attrs = append(attrs, c.label, v)
	}
	log.Info("kernel crypto for ESP", attrs...)
}
