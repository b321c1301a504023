package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

// Source is what the shell reads from: the gateway's status API
// (*status.Client over the unix socket).
type Source interface {
	Status(ctx context.Context) (*status.Document, error)
	Log(ctx context.Context, n int) ([]string, error)
	Config(ctx context.Context) ([]byte, error)
}

// A Shell reads commands from In and prints to Out until In ends or the
// context passed to Run does.
type Shell struct {
	In  io.Reader
	Out io.Writer
	// Source answers the show commands.
	Source Source
	// Where names the Source in messages [status.DefaultSocket].
	Where string
	// Hostname names the prompt when the gateway does not answer
	// [os.Hostname, which the gateway sets to its Linode label].
	Hostname func() (string, error)
	// Signal signals PID 1 for reboot and poweroff. Nil means the shell
	// refuses both (not the appliance).
	Signal func(syscall.Signal) error
	// Kill signals a process, for debug kill charon and debug kill
	// gateway; nil refuses them.
	Kill func(pid int, sig syscall.Signal) error
	// Proc is where /proc is [/proc], for show system and finding charon.
	Proc string
	// Timeout bounds each request to the gateway [5s].
	Timeout time.Duration
}

// Signals PID 1 understands (init/pid1, after busybox init).
const (
	SignalReboot   = syscall.SIGTERM
	SignalPowerOff = syscall.SIGUSR2
)

// defaultLogLines is how much `show log` prints: at Lish's 19200 baud a
// screenful takes a second or two, the whole ring (1000 lines) a minute.
const defaultLogLines = 40

// Run runs the shell. It returns nil when In ends.
func (s *Shell) Run(ctx context.Context) error {
	if s.Where == "" {
		s.Where = status.DefaultSocket
	}
	if s.Hostname == nil {
		s.Hostname = os.Hostname
	}
	if s.Timeout == 0 {
		s.Timeout = 5 * time.Second
	}
	done := make(chan struct{})
	defer close(done)
	lines := readLines(s.In, done)
	fmt.Fprintln(s.Out, "tidegate console: read-only; type help for the commands.")
	for {
		fmt.Fprint(s.Out, s.prompt(ctx))
		var line string
		select {
		case <-ctx.Done():
			fmt.Fprintln(s.Out)
			return ctx.Err()
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(s.Out)
				return nil
			}
			line = l
		}
		if err := s.exec(ctx, line, lines); err != nil {
			return err
		}
	}
}

// readLines delivers In's lines (without their end) on a channel, so that
// Run can also wait for ctx; the channel closes at the end of In. The
// reader gives up when done is closed (a read in progress stays blocked
// until In delivers or ends).
func readLines(in io.Reader, done <-chan struct{}) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		r := bufio.NewReader(in)
		for {
			l, err := r.ReadString('\n')
			if l != "" || err == nil {
				select {
				case ch <- strings.TrimRight(l, "\r\n"):
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// prompt is the gateway's name as routers print theirs: "vpn-gw-1> ".
func (s *Shell) prompt(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if d, err := s.Source.Status(ctx); err == nil && d.Gateway != "" {
		return d.Gateway + "> "
	}
	if h, err := s.Hostname(); err == nil && h != "" && h != "(none)" && h != "localhost" {
		return h + "> "
	}
	return "tidegate> "
}

// exec runs one command line; only a failed write ends the shell.
func (s *Shell) exec(ctx context.Context, line string, lines <-chan string) error {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil
	}
	c, args, err := lookup(words)
	if err != nil {
		fmt.Fprintf(s.Out, "%% %v\n", err)
		s.shortHelp()
		return nil
	}
	if len(args) > 0 && !c.args {
		fmt.Fprintf(s.Out, "%% %s takes no arguments\n", strings.Join(c.words, " "))
		return nil
	}
	return c.run(s, ctx, args, lines)
}

// request bounds one request to the gateway.
func (s *Shell) request(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.Timeout)
}

// command is one line of the command table.
type command struct {
	words  []string
	help   string
	args   bool // takes arguments after its words
	hidden bool // an alias: matched only when spelt out in full
	run    func(s *Shell, ctx context.Context, args []string, lines <-chan string) error
}

var commands []command

func init() {
	show := func(w func(io.Writer, *status.Document) error) func(*Shell, context.Context, []string, <-chan string) error {
		return func(s *Shell, ctx context.Context, _ []string, _ <-chan string) error { return s.show(ctx, w) }
	}
	commands = []command{
		{words: []string{"show", "status"}, help: "the gateway at a glance", run: show(status.WriteStatus)},
		{words: []string{"show", "tunnels"}, help: "IPsec tunnels: IKE and CHILD SAs, traffic", run: show(status.WriteTunnels)},
		{words: []string{"show", "bgp"}, help: "BGP sessions (like show ip bgp summary)", run: show(status.WriteBGP)},
		{words: []string{"show", "vrrp"}, help: "VRRP state, priority and master", run: show(status.WriteVRRP)},
		{words: []string{"show", "routes"}, help: "routes BGP installed in the kernel", run: show(status.WriteRoutes)},
		{words: []string{"show", "config"}, help: "the effective site configuration (secrets masked)", run: (*Shell).showConfig},
		{words: []string{"show", "log"}, args: true, help: "the gateway's recent log lines (show log N: the last N)", run: (*Shell).showLog},
		{words: []string{"show", "system"}, help: "uptime, memory and the processes' resident memory", run: (*Shell).showSystem},
		{words: []string{"help"}, help: "this list", run: func(s *Shell, _ context.Context, _ []string, _ <-chan string) error { s.help(); return nil }},
		{words: []string{"reboot"}, help: "reboot, after a planned handover to the peer", run: func(s *Shell, ctx context.Context, _ []string, l <-chan string) error {
			return s.power(ctx, l, "reboot", SignalReboot)
		}},
		{words: []string{"poweroff"}, help: "power off, after a planned handover to the peer", run: func(s *Shell, ctx context.Context, _ []string, l <-chan string) error {
			return s.power(ctx, l, "poweroff", SignalPowerOff)
		}},
		{words: []string{"debug", "kill", "charon"}, help: "kill charon as a crash would, to test recovery", run: (*Shell).debugKillCharon},
		{words: []string{"debug", "kill", "gateway"}, help: "kill the gateway as a crash would, to test PID 1's recovery", run: (*Shell).debugKillGateway},

		// FRR's and VyOS's spellings, for the fingers that know them.
		{words: []string{"?"}, hidden: true, run: func(s *Shell, _ context.Context, _ []string, _ <-chan string) error { s.help(); return nil }},
		{words: []string{"show", "ip", "bgp"}, hidden: true, run: show(status.WriteBGP)},
		{words: []string{"show", "ip", "bgp", "summary"}, hidden: true, run: show(status.WriteBGP)},
		{words: []string{"show", "bgp", "summary"}, hidden: true, run: show(status.WriteBGP)},
		{words: []string{"show", "ip", "route"}, hidden: true, run: show(status.WriteRoutes)},
		{words: []string{"show", "running-config"}, hidden: true, run: (*Shell).showConfig},
		{words: []string{"show", "vpn", "ipsec", "sa"}, hidden: true, run: show(status.WriteTunnels)},
	}
}

// lookup finds the command words name. Every word of a visible command may
// be abbreviated to a unique prefix; aliases must be spelt out. Words past
// the command's are its arguments.
func lookup(words []string) (*command, []string, error) {
	for i := range commands {
		c := &commands[i]
		if c.hidden && len(words) == len(c.words) && strings.EqualFold(strings.Join(words, " "), strings.Join(c.words, " ")) {
			return c, nil, nil
		}
	}
	candidates := make([]*command, 0, len(commands))
	for i := range commands {
		if !commands[i].hidden {
			candidates = append(candidates, &commands[i])
		}
	}
	for depth, w := range words {
		w = strings.ToLower(w)
		var exact, prefix []*command
		for _, c := range candidates {
			if depth >= len(c.words) {
				continue
			}
			switch {
			case c.words[depth] == w:
				exact = append(exact, c)
			case strings.HasPrefix(c.words[depth], w):
				prefix = append(prefix, c)
			}
		}
		next := exact
		if len(next) == 0 {
			next = prefix
		}
		if len(next) == 0 {
			return nil, nil, fmt.Errorf("unknown command: %s", strings.Join(words, " "))
		}
		// A single command whose words end here takes the rest as its
		// arguments.
		candidates = next
		if len(candidates) == 1 && depth == len(candidates[0].words)-1 {
			return candidates[0], words[depth+1:], nil
		}
	}
	var names []string
	for _, c := range candidates {
		names = append(names, strings.Join(c.words, " "))
	}
	return nil, nil, fmt.Errorf("incomplete command; one of: %s", strings.Join(names, ", "))
}

func (s *Shell) help() {
	fmt.Fprintln(s.Out, "Commands (read-only; words may be abbreviated, e.g. sh bgp):")
	for _, c := range commands {
		if c.hidden {
			continue
		}
		name := strings.Join(c.words, " ")
		if c.args {
			name += " [N]"
		}
		fmt.Fprintf(s.Out, "  %-18s %s\n", name, c.help)
	}
}

func (s *Shell) shortHelp() {
	fmt.Fprintln(s.Out, "  show status|tunnels|bgp|vrrp|routes|config|log [N]|system, help, reboot, poweroff")
}

// fetch gets the status document, or says why there is none.
func (s *Shell) fetch(ctx context.Context) *status.Document {
	ctx, cancel := s.request(ctx)
	defer cancel()
	d, err := s.Source.Status(ctx)
	if err != nil {
		s.unreachable(err)
		return nil
	}
	return d
}

func (s *Shell) unreachable(err error) {
	if status.NotRunning(err) {
		fmt.Fprintf(s.Out, "Gateway not running (nothing answers on %s).\n", s.Where)
		fmt.Fprintln(s.Out, "It may be starting or waiting for its configuration; PID 1 restarts it after")
		fmt.Fprintln(s.Out, "a crash. Its log lines print on this console.")
		return
	}
	fmt.Fprintf(s.Out, "%% gateway status unavailable: %v\n", err)
}

func (s *Shell) show(ctx context.Context, w func(io.Writer, *status.Document) error) error {
	d := s.fetch(ctx)
	if d == nil {
		return nil
	}
	return w(s.Out, d)
}

func (s *Shell) showConfig(ctx context.Context, _ []string, _ <-chan string) error {
	ctx, cancel := s.request(ctx)
	defer cancel()
	b, err := s.Source.Config(ctx)
	switch {
	case errors.Is(err, status.ErrNoConfig):
		fmt.Fprintln(s.Out, "No valid configuration yet: the gateway waits for one.")
		if d, err := s.Source.Status(ctx); err == nil && len(d.ConfigErrors) > 0 {
			fmt.Fprintln(s.Out, "Configuration errors in the user data:")
			for _, e := range d.ConfigErrors {
				fmt.Fprintf(s.Out, "  %s\n", e)
			}
		}
		return nil
	case err != nil:
		s.unreachable(err)
		return nil
	}
	fmt.Fprintln(s.Out, "# effective site configuration (defaults filled in); secrets shown as *****")
	_, err = s.Out.Write(b)
	return err
}

func (s *Shell) showLog(ctx context.Context, args []string, _ <-chan string) error {
	n := defaultLogLines
	switch {
	case len(args) > 1:
		fmt.Fprintln(s.Out, "% show log [N]: at most one number")
		return nil
	case len(args) == 1 && args[0] == "all":
		n = 0
	case len(args) == 1:
		v, err := strconv.Atoi(args[0])
		if err != nil || v <= 0 {
			fmt.Fprintf(s.Out, "%% show log [N]: %q is not a number of lines\n", args[0])
			return nil
		}
		n = v
	}
	ctx, cancel := s.request(ctx)
	defer cancel()
	lines, err := s.Source.Log(ctx, n)
	if err != nil {
		s.unreachable(err)
		return nil
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(s.Out, l); err != nil {
			return err
		}
	}
	return nil
}

// power asks for confirmation, then signals PID 1.
func (s *Shell) power(ctx context.Context, lines <-chan string, what string, sig syscall.Signal) error {
	if s.Signal == nil {
		fmt.Fprintf(s.Out, "%% %s: not on the appliance console (PID 1 is not tidegate); refusing\n", what)
		return nil
	}
	name := "this gateway"
	rctx, cancel := s.request(ctx)
	d, err := s.Source.Status(rctx)
	cancel()
	switch {
	case err != nil:
		fmt.Fprintln(s.Out, "Planned handover first: the gateway is not running, so there is nothing to hand over.")
	case d.VRRP != nil && d.VRRP.State == "master":
		name = d.Gateway
		peer := d.Peer
		if peer == "" {
			peer = "the peer"
		}
		fmt.Fprintf(s.Out, "Planned handover first: %s is the VRRP master; it hands the virtual IP to\n%s (advertising priority 0) and stops BGP and IPsec before the %s.\n", d.Gateway, peer, what)
	case d.VRRP != nil:
		name = d.Gateway
		fmt.Fprintf(s.Out, "Planned handover first: %s is VRRP %s, so no traffic moves; it stops BGP\nand IPsec before the %s.\n", d.Gateway, d.VRRP.State, what)
	default:
		if d.Gateway != "" {
			name = d.Gateway
		}
		fmt.Fprintf(s.Out, "Planned handover first: the gateway is %s and holds no virtual IP.\n", d.Phase)
	}
	fmt.Fprintf(s.Out, "%s %s now? [y/N] ", capitalize(what), name)
	if !s.confirm(ctx, lines) {
		return nil
	}
	if err := s.Signal(sig); err != nil {
		fmt.Fprintf(s.Out, "%% %s: %v\n", what, err)
		return nil
	}
	fmt.Fprintf(s.Out, "%s: planned handover under way; the console shows the shutdown.\n", capitalize(what))
	return nil
}

// confirm reads the answer to a question just printed: y or yes go on,
// anything else cancels.
func (s *Shell) confirm(ctx context.Context, lines <-chan string) bool {
	var answer string
	select {
	case <-ctx.Done():
		fmt.Fprintln(s.Out)
		return false
	case l, ok := <-lines:
		if !ok {
			fmt.Fprintln(s.Out)
			return false
		}
		answer = strings.ToLower(strings.TrimSpace(l))
	}
	if answer != "y" && answer != "yes" {
		fmt.Fprintln(s.Out, "Cancelled.")
		return false
	}
	return true
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
