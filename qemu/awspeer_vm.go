package qemu

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidegate/tidegate/qemu/awspeer"
)

// AWSPeerOptions describe an AWS peer guest (package awspeer) in a
// namespace: one NIC, eth0, on a TAP device of the namespace.
type AWSPeerOptions struct {
	Name    string // [aws]
	Netns   *Netns
	NIC     NIC
	Config  awspeer.Config
	MemMiB  int // [256]
	LogFile string
	Console io.Writer
	// Build says where the pinned kernel comes from; the zero value finds
	// the repository from the working directory.
	Build awspeer.BuildOptions
	// Files are added to the guest's initramfs, e.g. a test binary.
	Files []awspeer.File
}

// AWSPeer is a running AWS peer guest: its serial console is a root shell
// once it is ready (see Shell).
type AWSPeer struct {
	*VM
	Config awspeer.Config
}

// StartAWSPeer builds the peer's initramfs for o.Config and boots it with
// -kernel/-initrd (the peer is not the product, so it skips the disk and
// GRUB). The caller must Kill it.
func StartAWSPeer(o AWSPeerOptions) (*AWSPeer, error) {
	if o.Name == "" {
		o.Name = "aws"
	}
	if o.MemMiB == 0 {
		o.MemMiB = 256
	}
	base, err := awspeer.Prepare(o.Build)
	if err != nil {
		return nil, err
	}
	defer base.Close()
	dir, err := os.MkdirTemp("", "tgvm-"+o.Name+"-")
	if err != nil {
		return nil, err
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := base.Initramfs(o.Config, initrd, o.Files...); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	vm, err := Start(Options{
		Name: o.Name, Netns: o.Netns, NICs: []NIC{o.NIC}, MemMiB: o.MemMiB,
		Kernel: base.Kernel, Initrd: initrd, Append: awspeer.CmdLine,
		LogFile: o.LogFile, Console: o.Console, Dir: dir,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &AWSPeer{VM: vm, Config: o.Config}, nil
}

var peerReady = regexp.MustCompile(`awspeer: ready at ([0-9.]+) s`)

// WaitReady waits for the init script's "ready" line (charon has loaded
// the connections, zebra and bgpd run) and returns the guest's uptime then.
// A step of the init that failed is an error.
func (p *AWSPeer) WaitReady(ctx context.Context) (time.Duration, error) {
	m, _, err := p.WaitFor(ctx, 0, peerReady)
	if err != nil {
		return 0, err
	}
	if failed := regexp.MustCompile(`awspeer: .* failed|charon: no VICI`).FindString(p.Console()); failed != "" {
		return 0, fmt.Errorf("%s: %s", p.Name, failed)
	}
	s, _ := strconv.ParseFloat(peerReady.FindStringSubmatch(m)[1], 64)
	return time.Duration(s * float64(time.Second)), nil
}

var (
	shellSeq atomic.Int64
	// shellLocks serializes Shell per VM: two commands typed at once would
	// interleave on the one console.
	shellLocks sync.Map // *VM -> *shellState
)

// shellState is a VM's console shell as Shell left it.
type shellState struct {
	sync.Mutex
	// dirty: the last command did not finish, or what was typed may have
	// been cut (a line typed while the shell was still starting can lose
	// its beginning, leaving an open quote that swallows every later
	// line). The next command first types Ctrl-C, which ends either.
	dirty bool
}

// Shell types cmd into the shell on the guest's serial console and returns
// what it printed (stdout and stderr, "\r" removed) and its exit status.
// Calls on one VM run one after the other. A command that outlives ctx
// is interrupted (Ctrl-C) by the next call, which also ends whatever a
// line cut while the shell was starting left open.
//
// The markers around the output are typed with their halves quoted apart
// ("__BE""GIN_n"), so the echo of the typed line never matches them, only
// what echo prints.
func (vm *VM) Shell(ctx context.Context, cmd string) (string, int, error) {
	v, _ := shellLocks.LoadOrStore(vm, new(shellState))
	st := v.(*shellState)
	st.Lock()
	defer st.Unlock()
	if st.dirty {
		vm.stdin.Write([]byte{0x03})
		time.Sleep(200 * time.Millisecond)
	}
	st.dirty = true
	n := shellSeq.Add(1)
	re := regexp.MustCompile(fmt.Sprintf(`(?s)__BEGIN_%d__\r?\n(.*?)__DONE_%d_(\d+)__`, n, n))
	off := len(vm.Console())
	vm.Type(fmt.Sprintf(`echo "__BEG""IN_%d__"; { %s ; } 2>&1; echo "__DO""NE_%d_$?__"`, n, cmd, n))
	m, _, err := vm.WaitFor(ctx, off, re)
	if err != nil {
		return "", -1, fmt.Errorf("%s: %q: %w", vm.Name, cmd, err)
	}
	st.dirty = false
	sub := re.FindStringSubmatch(m)
	status, _ := strconv.Atoi(sub[2])
	return strings.ReplaceAll(sub[1], "\r", ""), status, nil
}

// ShellOK runs cmd on the peer's console once it is ready: nothing is
// typed while its shell is still starting, when a line can lose its
// beginning.
func (p *AWSPeer) ShellOK(ctx context.Context, cmd string) (string, error) {
	if _, err := p.WaitReady(ctx); err != nil {
		return "", err
	}
	return p.VM.ShellOK(ctx, cmd)
}

// ShellOK is Shell for commands that must succeed.
func (vm *VM) ShellOK(ctx context.Context, cmd string) (string, error) {
	out, status, err := vm.Shell(ctx, cmd)
	if err == nil && status != 0 {
		err = fmt.Errorf("%s: %q exited %d:\n%s", vm.Name, cmd, status, out)
	}
	return out, err
}
