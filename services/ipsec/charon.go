package ipsec

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// A charon is one run of the daemon.
type charon struct {
	cmd     *exec.Cmd
	pid     int
	socket  string // the VICI socket's path as the service sees it
	private bool   // RunDir is charon's /run
	started time.Time
	done    chan struct{} // closed when charon has exited
	err     error         // how it exited; valid after done
}

// startCharon starts charon with the configuration in cfg.RunDir.
//
// It runs on a goroutine locked to its OS thread, for two reasons. The
// thread may enter cfg.NetNS and a private mount namespace (RunDir on /run)
// before forking, and charon inherits both; the thread never returns to the
// runtime's pool. And Pdeathsig fires when the thread that forked the child
// exits, not the process (internal/deathsig explains the trap): the
// goroutine stays in cmd.Wait, keeping the thread, until charon exits.
func startCharon(cfg *Config, log *slog.Logger) (*charon, error) {
	c := &charon{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread may be in other namespaces, so it
		// ends with the goroutine.
		if cfg.NetNS != "" {
			if err := enterNetNS(cfg.NetNS); err != nil {
				started <- err
				return
			}
		}
		conf, err := c.prepare(cfg, log)
		if err != nil {
			started <- err
			return
		}
		c.cmd = exec.Command(cfg.Charon)
		c.cmd.Env = []string{"STRONGSWAN_CONF=" + conf, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		c.cmd.Dir = "/"
		lw := &lineWriter{log: log.With("src", "charon")}
		c.cmd.Stdout, c.cmd.Stderr = lw, lw
		c.cmd.SysProcAttr = charonAttr()
		if err := c.cmd.Start(); err != nil {
			started <- fmt.Errorf("ipsec: starting %s: %w", cfg.Charon, err)
			return
		}
		c.pid = c.cmd.Process.Pid
		c.started = time.Now()
		started <- nil
		c.err = c.cmd.Wait()
		lw.flush()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// prepare writes strongswan.conf and tries to give the calling (locked)
// thread a private mount namespace with cfg.RunDir on /run; failing that,
// charon shares the mount namespace and sees RunDir where it is. It returns
// the configuration file's path as charon will see it.
func (c *charon) prepare(cfg *Config, log *slog.Logger) (string, error) {
	c.socket = filepath.Join(cfg.RunDir, socketName)
	// A stale socket would make the dialer connect to nothing.
	if err := os.Remove(c.socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("ipsec: removing stale VICI socket: %w", err)
	}
	// Written before the mount, which may hide RunDir's own path (it is
	// under /run in the image).
	conf, err := writeConf(cfg.RunDir, charonDir)
	if err != nil {
		return "", err
	}
	if err = privateRun(cfg.RunDir); err == nil {
		c.private = true
		return conf, nil
	}
	log.Warn("ipsec: cannot give charon a private /run; it uses /var/run/charon.pid", "err", err)
	// The mount failed, so this thread still sees RunDir where it is.
	return writeConf(cfg.RunDir, cfg.RunDir)
}

func enterNetNS(path string) error {
	h, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("ipsec: opening network namespace %s: %w", path, err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return fmt.Errorf("ipsec: entering network namespace %s: %w", path, err)
	}
	return nil
}

// stop asks charon to shut down (it closes its SAs with DELETEs) and kills
// it if it takes longer than grace.
// exited says whether charon exits within wait.
func (c *charon) exited(wait time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(wait):
		return false
	}
}

func (c *charon) stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// lineWriter logs what charon writes, one record per line.
type lineWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimRight(w.buf[:i], "\r"); len(line) > 0 {
			w.log.Info(string(line))
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a line that never ends
		w.log.Info(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.log.Info(string(w.buf))
		w.buf = nil
	}
}
