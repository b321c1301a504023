package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
)

// NIC is a guest network interface backed by a TAP device in the VM's
// namespace. Guests see them as eth0, eth1 ... in this order.
type NIC struct {
	Tap string
	MAC string
}

// Options describe a VM.
type Options struct {
	Name  string
	Netns *Netns
	Image string // raw disk image; booted with snapshot=on, never written
	// BootDisk, when set, is a raw disk booted before Image (which then is
	// BIOS disk 0x81): for BuildLinodeGRUB's stand-in of Linode's GRUB.
	BootDisk string
	// Kernel, Initrd and Append boot a kernel directly instead of Image,
	// for guests that are not the product (the AWS peer). Such a guest
	// gets -no-reboot, so that a panic ends QEMU.
	Kernel, Initrd, Append string
	NICs                   []NIC
	MemMiB                 int       // [512]
	LogFile                string    // the console is copied here too, when set
	Console                io.Writer // and here, e.g. a terminal
	// Dir holds the VM's runtime files and is removed by Kill; [a new
	// temporary directory].
	Dir string
	// CPU is QEMU's -cpu: a model and its features; [max]. Tests take
	// features away (e.g. "max,aes=off") to boot as a CPU without them.
	CPU string
}

// VM is a running QEMU guest.
type VM struct {
	Name    string
	Started time.Time

	cmd   *exec.Cmd
	stdin io.WriteCloser
	qmp   string
	dir   string

	mu      sync.Mutex
	console bytes.Buffer
	changed chan struct{} // closed and replaced on every console write

	exited chan struct{}
	err    error
}

// Start boots the image. The caller must Kill (or Wait for) the VM.
func Start(o Options) (*VM, error) {
	if o.Kernel == "" {
		if _, err := os.Stat(o.Image); err != nil {
			return nil, fmt.Errorf("disk image: %w (run `make image`)", err)
		}
	}
	if o.MemMiB == 0 {
		o.MemMiB = 512
	}
	if o.CPU == "" {
		o.CPU = "max"
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "tgvm-"+o.Name+"-"); err != nil {
			return nil, err
		}
	}
	vm := &VM{Name: o.Name, qmp: filepath.Join(dir, "qmp.sock"), dir: dir, changed: make(chan struct{}), exited: make(chan struct{})}
	args := []string{
		"-name", o.Name,
		// -cpu max offers RDRAND, as Linode's CPUs do, and virtio-rng
		// seeds the RNG too: without either the guest's getrandom blocks
		// for minutes under TCG.
		"-machine", "pc", "-cpu", o.CPU, "-m", strconv.Itoa(o.MemMiB), "-smp", "1",
		"-device", "virtio-rng-pci",
		"-display", "none", "-monitor", "none", "-serial", "stdio",
		"-qmp", "unix:" + vm.qmp + ",server=on,wait=off",
	}
	if o.Kernel != "" {
		args = append(args, "-no-reboot", "-kernel", o.Kernel, "-initrd", o.Initrd, "-append", o.Append)
	} else {
		// Linode's Direct Disk: SeaBIOS runs the disk's first sector.
		args = append(args,
			"-device", "virtio-scsi-pci,id=scsi0",
			"-drive", "file="+optionValue(o.Image)+",format=raw,if=none,id=disk0,snapshot=on",
			"-device", "scsi-hd,drive=disk0,bus=scsi0.0,bootindex=1")
	}
	if o.BootDisk != "" {
		args = append(args,
			"-drive", "file="+optionValue(o.BootDisk)+",format=raw,if=none,id=boot0,snapshot=on",
			"-device", "scsi-hd,drive=boot0,bus=scsi0.0,bootindex=0")
	}
	for i, nic := range o.NICs {
		id := fmt.Sprintf("net%d", i)
		args = append(args,
			"-netdev", "tap,id="+id+",ifname="+nic.Tap+",script=no,downscript=no",
			"-device", fmt.Sprintf("virtio-net-pci,netdev=%s,mac=%s,addr=0x%x", id, nic.MAC, 0x10+i))
	}
	if o.NICs == nil {
		args = append(args, "-nic", "none")
	}
	var cmd *exec.Cmd
	if o.Netns != nil {
		cmd = o.Netns.Command("qemu-system-x86_64", args...)
	} else {
		cmd = exec.Command("qemu-system-x86_64", args...)
	}
	var logf *os.File
	if o.LogFile != "" {
		var err error
		if logf, err = os.Create(o.LogFile); err != nil {
			return nil, err
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if vm.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	vm.Started = time.Now()
	// Dies with the test binary even if it is killed before its cleanup.
	if err := deathsig.Start(cmd); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	vm.cmd = cmd
	var copies []io.Writer
	if logf != nil {
		copies = append(copies, logf)
	}
	if o.Console != nil {
		copies = append(copies, o.Console)
	}
	go vm.capture(stdout, io.MultiWriter(copies...), logf)
	return vm, nil
}

func (vm *VM) capture(r io.Reader, copy io.Writer, logf *os.File) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			vm.mu.Lock()
			vm.console.Write(buf[:n])
			close(vm.changed)
			vm.changed = make(chan struct{})
			vm.mu.Unlock()
			copy.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	if logf != nil {
		logf.Close()
	}
	vm.err = vm.cmd.Wait()
	close(vm.exited)
}

// Console returns everything the guest printed so far.
func (vm *VM) Console() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.console.String()
}

// WaitFor waits until the console output from offset on matches re, and
// returns the match and the offset just after it. It types a newline now
// and then: QEMU's UART may hold a burst's last bytes until the next
// interrupt.
func (vm *VM) WaitFor(ctx context.Context, offset int, re *regexp.Regexp) (string, int, error) {
	nudge := time.NewTicker(2 * time.Second)
	defer nudge.Stop()
	for {
		vm.mu.Lock()
		out := vm.console.Bytes()
		if offset > len(out) {
			offset = len(out)
		}
		loc := re.FindIndex(out[offset:])
		var m string
		if loc != nil {
			m = string(out[offset+loc[0] : offset+loc[1]])
		}
		changed := vm.changed
		vm.mu.Unlock()
		if loc != nil {
			return m, offset + loc[1], nil
		}
		select {
		case <-changed:
		case <-nudge.C:
			vm.Type("")
		case <-vm.exited:
			// Everything QEMU printed is captured before exited closes:
			// look once more before giving up.
			vm.mu.Lock()
			out := vm.console.Bytes()
			loc := re.FindIndex(out[offset:])
			vm.mu.Unlock()
			if loc != nil {
				return string(out[offset+loc[0] : offset+loc[1]]), offset + loc[1], nil
			}
			return "", offset, fmt.Errorf("%s: QEMU exited (%v) before the console showed %q", vm.Name, vm.err, re)
		case <-ctx.Done():
			return "", offset, fmt.Errorf("%s: console did not show %q: %w", vm.Name, re, ctx.Err())
		}
	}
}

// Type sends a line to the guest's serial console.
func (vm *VM) Type(line string) {
	vm.stdin.Write([]byte(line + "\n"))
}

// Powerdown presses the ACPI power button (QMP system_powerdown), as a
// Linode shutdown does.
func (vm *VM) Powerdown() error {
	return vm.qmpCommand("system_powerdown")
}

func (vm *VM) qmpCommand(cmd string) error {
	c, err := net.DialTimeout("unix", vm.qmp, 5*time.Second)
	if err != nil {
		return fmt.Errorf("qmp: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, exec := range []string{"qmp_capabilities", cmd} {
		b, _ := json.Marshal(map[string]string{"execute": exec})
		if _, err := c.Write(append(b, '\n')); err != nil {
			return err
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("qmp %s: %w", exec, err)
			}
			var resp struct {
				Return json.RawMessage
				Error  *struct{ Desc string }
			}
			if json.Unmarshal(line, &resp) != nil {
				continue
			}
			if resp.Error != nil {
				return fmt.Errorf("qmp %s: %s", exec, resp.Error.Desc)
			}
			if resp.Return != nil {
				break
			}
		}
	}
	return nil
}

// Wait waits for QEMU to exit.
func (vm *VM) Wait(ctx context.Context) error {
	select {
	case <-vm.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CPUTime is the host CPU time QEMU has used so far, user and system, all
// its threads. Under TCG every guest instruction runs on the host, so this
// is what the guest's work costs: the data-plane benchmark compares it
// between stacks for the same traffic.
func (vm *VM) CPUTime() (time.Duration, error) {
	if vm.cmd == nil || vm.cmd.Process == nil {
		return 0, fmt.Errorf("qemu %s: not started", vm.Name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", vm.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("qemu %s: %w", vm.Name, err)
	}
	return statCPU(string(b))
}

// statCPU reads utime and stime from a /proc/<pid>/stat line. They are the
// 12th and 13th fields after the command name, which is in parentheses and
// may hold spaces; the unit is USER_HZ, 100 on the architectures QEMU runs
// on here.
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("qemu: /proc stat line too short: %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("qemu: /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.exited:
		return true
	default:
		return false
	}
}

// Kill stops QEMU (by pid) and removes its runtime files.
func (vm *VM) Kill() {
	if vm.cmd != nil && vm.cmd.Process != nil && !vm.Exited() {
		vm.cmd.Process.Kill()
		<-vm.exited
	}
	os.RemoveAll(vm.dir)
}

// optionValue escapes a value for QEMU's comma-separated option syntax,
// where a literal comma is written twice (a test's temporary directory
// takes its name from the test, commas included).
func optionValue(v string) string { return strings.ReplaceAll(v, ",", ",,") }
