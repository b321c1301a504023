package shell

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procRoot is where the shell reads the kernel's process and memory
// information [/proc].
func (s *Shell) procRoot() string {
	if s.Proc == "" {
		return "/proc"
	}
	return s.Proc
}

// process is one line of show system.
type process struct {
	pid  int
	ppid int
	name string
	rss  uint64 // bytes
}

// showSystem prints what VyOS's show system memory and show system
// processes would, from /proc: a stateless appliance has nothing else.
func (s *Shell) showSystem(_ context.Context, _ []string, _ <-chan string) error {
	root := s.procRoot()
	if b, err := os.ReadFile(filepath.Join(root, "uptime")); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if sec, err := strconv.ParseFloat(f[0], 64); err == nil {
				fmt.Fprintf(s.Out, "Uptime:  %v\n", time.Duration(sec*float64(time.Second)).Round(time.Second))
			}
		}
	}
	mem, err := meminfo(filepath.Join(root, "meminfo"))
	if err != nil {
		fmt.Fprintf(s.Out, "%% memory: %v\n", err)
	} else {
		total, avail := mem["MemTotal"], mem["MemAvailable"]
		fmt.Fprintf(s.Out, "Memory:  total %s, used %s, available %s\n", mib(total), mib(total-avail), mib(avail))
	}
	procs := processes(root)
	sort.Slice(procs, func(i, j int) bool { return procs[i].rss > procs[j].rss })
	fmt.Fprintf(s.Out, "%-7s %-11s %s\n", "PID", "Resident", "Process")
	for _, p := range procs {
		if p.rss == 0 {
			continue // kernel threads
		}
		fmt.Fprintf(s.Out, "%-7d %-11s %s\n", p.pid, mib(p.rss), p.name)
	}
	return nil
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// meminfo reads /proc/meminfo's lines "Name:   1234 kB" into bytes.
func meminfo(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		f := strings.Fields(rest)
		if !ok || len(f) == 0 {
			continue
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			v *= 1024
		}
		m[name] = v
	}
	if _, ok := m["MemTotal"]; !ok {
		return nil, fmt.Errorf("%s has no MemTotal", path)
	}
	if _, ok := m["MemAvailable"]; !ok {
		return nil, fmt.Errorf("%s has no MemAvailable", path)
	}
	return m, nil
}

// processes lists the processes under root with their name (comm) and
// resident memory (VmRSS of status).
func processes(root string) []process {
	entries, _ := os.ReadDir(root)
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "status"))
		if err != nil {
			continue // gone meanwhile
		}
		p := process{pid: pid}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				p.name = v
			case "PPid":
				p.ppid, _ = strconv.Atoi(v)
			case "VmRSS":
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseUint(f[0], 10, 64)
					p.rss = kb * 1024
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// pidsOf returns the pids of the processes called name.
func pidsOf(root, name string) []int {
	var pids []int
	for _, p := range processes(root) {
		if p.name == name {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// debugKillCharon kills charon as a crash would (SIGKILL: no DELETE
// reaches AWS, its SAs stay in the kernel), for testing that the gateway
// recovers: it restarts charon and the tunnels return. It asks first.
func (s *Shell) debugKillCharon(ctx context.Context, _ []string, lines <-chan string) error {
	return s.debugKill(ctx, lines, "charon", "charon", func(root string) []int { return pidsOf(root, "charon") },
		"Kill charon (pid %s) with SIGKILL, as a crash would? The gateway restarts it;\nthe tunnels are negotiated again. [y/N] ",
		"charon (pid %s) killed.\n")
}

// debugKill is "debug kill WHAT": it kills what pids finds (who, in
// sentences) with SIGKILL once the operator agrees to question (%s: the
// pids), and says done. Only on the appliance: the shell run by hand has
// no Kill.
func (s *Shell) debugKill(ctx context.Context, lines <-chan string, what, who string, pids func(root string) []int, question, done string) error {
	if s.Signal == nil || s.Kill == nil {
		fmt.Fprintf(s.Out, "%% debug kill %s: not on the appliance console; refusing\n", what)
		return nil
	}
	found := pids(s.procRoot())
	if len(found) == 0 {
		fmt.Fprintf(s.Out, "%% %s is not running\n", who)
		return nil
	}
	fmt.Fprintf(s.Out, question, joinInts(found))
	if !s.confirm(ctx, lines) {
		return nil
	}
	for _, pid := range found {
		if err := s.Kill(pid, syscall.SIGKILL); err != nil {
			fmt.Fprintf(s.Out, "%% kill %d: %v\n", pid, err)
			return nil
		}
	}
	fmt.Fprintf(s.Out, done, joinInts(found))
	return nil
}

// gatewayPids returns the pids of the gateway process: PID 1's child
// started as "<tidegate> gateway" (its name is the executable's, "exe" for
// /proc/self/exe, and the console shell is a child of PID 1 too).
func gatewayPids(root string) []int {
	var pids []int
	for _, p := range processes(root) {
		if p.ppid != 1 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(p.pid), "cmdline"))
		if err != nil {
			continue
		}
		if args := strings.Split(string(b), "\x00"); len(args) > 1 && args[1] == "gateway" {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// debugKillGateway kills the gateway process as a crash would (SIGKILL:
// no handover, charon dies with it), for testing what PID 1 does about
// it: it takes the virtual IPs the gateway claimed off their interface
// and restarts the gateway. It asks first.
func (s *Shell) debugKillGateway(ctx context.Context, _ []string, lines <-chan string) error {
	return s.debugKill(ctx, lines, "gateway", "the gateway", gatewayPids,
		"Kill the gateway (pid %s) with SIGKILL, as a crash would? No handover: the\npeer takes the virtual IP over when VRRP misses this one; PID 1 removes it\nhere and restarts the gateway. [y/N] ",
		"gateway (pid %s) killed; PID 1's log lines follow on this console.\n")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}
