package lifeline

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidegate/tidegate/internal/testchild"
	"github.com/tidegate/tidegate/internal/testlog"
	"golang.org/x/sys/unix"
)

// The test binary started as a child (testchild) is the supervised side
// of the end-to-end tests.
func TestMain(m *testing.M) {
	testchild.Main(m, func(string) int { return child() })
}

// child claims two addresses, beats and exits; it exits 2 if FromEnv did
// not leave the descriptor close-on-exec and the variable removed, which
// would hand the lifeline to charon.
func child() int {
	l := FromEnv()
	if !l.Enabled() {
		fmt.Fprintln(os.Stderr, "no lifeline:", l.Err())
		return 1
	}
	if _, ok := os.LookupEnv(EnvVar); ok {
		fmt.Fprintln(os.Stderr, EnvVar, "still set")
		return 2
	}
	if fl, err := unix.FcntlInt(uintptr(l.fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		fmt.Fprintln(os.Stderr, "lifeline not close-on-exec")
		return 2
	}
	if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24"), netip.MustParsePrefix("2001:db8::10/64")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l.Beat()
	return 0
}

func testLog() (*slog.Logger, *testlog.Buffer) {
	var b testlog.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func TestChildToMonitor(t *testing.T) {
	cmd := testchild.Command("1", EnvVar+"=99") // Attach replaces a stale value
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	log, logged := testLog()
	m, err := Attach(cmd, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		m.Close(0)
		t.Fatal(err)
	}
	m.Started()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	start := time.Now()
	claims := m.Close(5 * time.Second)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v after the child exited; the pipe should end with it", d)
	}
	want := []Claim{
		{"eth1", netip.MustParsePrefix("192.0.2.10/24")},
		{"eth1", netip.MustParsePrefix("2001:db8::10/64")},
	}
	if diff := cmp.Diff(want, claims, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if _, ok := m.Silence(); !ok {
		t.Error("the child's beat was not seen")
	}
	if logged.String() != "" {
		t.Errorf("logged for a well-behaved child:\n%s", logged)
	}
}

func TestFromEnvWithoutSupervisor(t *testing.T) {
	os.Unsetenv(EnvVar)
	for name, l := range map[string]*Lifeline{"FromEnv": FromEnv(), "nil": nil} {
		if l.Enabled() || l.Err() != nil {
			t.Errorf("%s: Enabled %v, Err %v; want a silent no-op", name, l.Enabled(), l.Err())
		}
		l.Beat()
		if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24")); err != nil {
			t.Errorf("%s: Claim: %v", name, err)
		}
	}
}

// TestFromEnvRejects: a variable that does not name a pipe's write end
// (stale, or inherited from elsewhere) must not make the child write into
// another file.
func TestFromEnvRejects(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct{ value, err string }{
		{"", "not a descriptor number"},
		{"x", "not a descriptor number"},
		{"2", "not a descriptor number above 2"},
		{"-5", "not a descriptor number"},
		{"999999", "bad file descriptor"},
		{strconv.Itoa(int(f.Fd())), "is not a pipe"},
		{strconv.Itoa(int(r.Fd())), "not a pipe's write end"},
	} {
		t.Setenv(EnvVar, tc.value)
		l := FromEnv()
		if l.Enabled() || l.Err() == nil || !strings.Contains(l.Err().Error(), tc.err) {
			t.Errorf("%s=%q: Enabled %v, Err %v; want disabled with %q", EnvVar, tc.value, l.Enabled(), l.Err(), tc.err)
		}
		if _, ok := os.LookupEnv(EnvVar); ok {
			t.Errorf("%s=%q: variable left set", EnvVar, tc.value)
		}
		if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24")); err != nil {
			t.Errorf("%s=%q: Claim: %v", EnvVar, tc.value, err)
		}
	}
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("the regular file got %d bytes", st.Size())
	}
}

// inProcess gives this process a Lifeline on a fresh pipe, and returns it
// with the pipe's read end.
func inProcess(t *testing.T) (*Lifeline, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { r.Close(); unix.Close(fd) })
	t.Setenv(EnvVar, strconv.Itoa(fd))
	l := FromEnv()
	if !l.Enabled() {
		t.Fatal(l.Err())
	}
	return l, r
}

// TestBeatNeverBlocks fills the pipe as a supervisor that stopped reading
// would let it fill: Beat must return at once, Claim give up after its
// second, and both work again once there is room.
func TestBeatNeverBlocks(t *testing.T) {
	l, r := inProcess(t)
	junk := bytes.Repeat([]byte("beat\n"), 1000)
	for {
		_, err := unix.Write(l.fd, junk)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{len(junk), 1} { // fill the last bytes too
		for {
			if _, err := unix.Write(l.fd, junk[:n]); err != nil {
				break
			}
		}
	}
	start := time.Now()
	for range 3 {
		l.lastBeat.Store(0) // past the rate limit
		l.Beat()
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Beat on a full pipe took %v", d)
	}
	start = time.Now()
	err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24"))
	if d := time.Since(start); err == nil || d < claimTimeout || d > claimTimeout+time.Second {
		t.Errorf("Claim on a full pipe: %v after %v; want an error after about %v", err, d, claimTimeout)
	}
	// Room again: the claim goes through, and so does a beat.
	if _, err := r.Read(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24")); err != nil {
		t.Errorf("Claim after the supervisor read: %v", err)
	}
	l.lastBeat.Store(0)
	l.Beat()
	if l.lastBeat.Load() == 0 {
		t.Error("Beat after the supervisor read was dropped")
	}
}

func TestBeatRateLimit(t *testing.T) {
	l, r := inProcess(t)
	for range 1000 {
		l.Beat()
	}
	unix.Close(l.fd)
	b := make([]byte, 64<<10)
	n, _ := r.Read(b)
	if got := strings.Count(string(b[:n]), beatLine); got != 1 {
		t.Errorf("1000 beats in a tight loop wrote %d lines, want 1", got)
	}
}

func TestClaimLimits(t *testing.T) {
	l, _ := inProcess(t)
	if err := l.Claim("eth1/x", netip.MustParsePrefix("192.0.2.10/24")); err == nil {
		t.Error("claim on an invalid interface name accepted")
	}
	for i := range MaxClaims {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 24)
		if err := l.Claim("eth1", p, p); err != nil { // twice: counted once
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	if err := l.Claim("eth1", netip.MustParsePrefix("198.51.100.1/24")); err == nil {
		t.Errorf("claim %d accepted, want at most %d", MaxClaims+1, MaxClaims)
	}
	if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.0/24")); err != nil {
		t.Errorf("repeating a held claim at the limit: %v", err)
	}
}

// attached is a Monitor on a command that is never started.
func attached(t *testing.T, log *slog.Logger) (*exec.Cmd, *Monitor) {
	t.Helper()
	cmd := exec.Command("/nonexistent")
	m, err := Attach(cmd, log)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, m
}

// childEnd opens another copy of the write end of cmd's lifeline, as the
// child (or a grandchild) holds it.
func childEnd(t *testing.T, cmd *exec.Cmd) *os.File {
	t.Helper()
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", cmd.ExtraFiles[0].Fd()), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestMonitorBounds is a child gone wrong: a megabyte line, garbage, a
// thousand claims. The Monitor keeps reading, keeps the valid lines, and
// at most MaxClaims claims.
func TestMonitorBounds(t *testing.T) {
	log, logged := testLog()
	cmd, m := attached(t, log)
	// The child's copy of the write end: the supervisor's is closed by
	// Started below, as after a start.
	w := childEnd(t, cmd)
	m.Started()
	go func() {
		defer w.Close()
		fmt.Fprint(w, strings.Repeat("x", 1<<20)+"\n")
		fmt.Fprint(w, "claim eth1 192.0.2.1/24\n")
		fmt.Fprint(w, "claim eth1 192.0.2.1/24\n") // a duplicate is no new claim
		fmt.Fprint(w, "\x00\xff garbage\n\n")
		fmt.Fprint(w, strings.Repeat("claim eth1 192.0.2.1/24", 10)+"\n") // long, and valid at the start
		for i := range 1000 {
			fmt.Fprintf(w, "claim eth%d 10.%d.%d.1/24\n", i%10, i/256, i%256)
		}
		fmt.Fprint(w, "beat\n")
		fmt.Fprint(w, "claim eth1") // unterminated
	}()
	claims := m.Close(10 * time.Second)
	if len(claims) != MaxClaims {
		t.Errorf("%d claims kept, want MaxClaims (%d)", len(claims), MaxClaims)
	}
	if len(claims) > 0 && claims[0] != (Claim{"eth1", netip.MustParsePrefix("192.0.2.1/24")}) {
		t.Errorf("first claim %v, want the valid line after the long one", claims[0])
	}
	if _, ok := m.Silence(); !ok {
		t.Error("the beat after the rejected lines was not seen")
	}
	out := logged.String()
	if n := strings.Count(out, "line rejected"); n != maxLogged {
		t.Errorf("%d rejections logged, want %d:\n%s", n, maxLogged, out)
	}
	if !strings.Contains(out, "count=") {
		t.Errorf("the total of rejected lines not logged:\n%s", out)
	}
	if strings.Contains(out, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") {
		t.Errorf("a rejected line logged at length:\n%.300s", out)
	}
}

// TestMonitorCloseWithLingeringWriter: a grandchild that inherited the
// write end keeps the pipe open after the child is gone; Close must not
// wait for it longer than it was told.
func TestMonitorCloseWithLingeringWriter(t *testing.T) {
	cmd, m := attached(t, nil)
	grandchild := childEnd(t, cmd)
	defer grandchild.Close()
	fmt.Fprint(grandchild, "claim eth1 192.0.2.1/24\nbeat\n")
	start := time.Now()
	claims := m.Close(200 * time.Millisecond)
	if d := time.Since(start); d < 200*time.Millisecond || d > time.Second {
		t.Errorf("Close took %v, want about 200ms", d)
	}
	if len(claims) != 1 {
		t.Errorf("claims %v, want the one written before Close", claims)
	}
}

func TestMonitorSilence(t *testing.T) {
	cmd, m := attached(t, nil)
	defer m.Close(0)
	if _, ok := m.Silence(); ok {
		t.Error("Silence ok before any beat")
	}
	fmt.Fprint(cmd.ExtraFiles[0], "beat\n")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := m.Silence(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("beat not seen")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if d, _ := m.Silence(); d < 50*time.Millisecond {
		t.Errorf("Silence %v after 50ms without a beat", d)
	}
}

func TestAttachStartedCommand(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	if _, err := Attach(cmd, nil); err == nil {
		t.Error("Attach to a started command succeeded")
	}
}

// TestSupervisorGone: a write into a pipe nobody reads any more raises
// SIGPIPE; the child must neither die of it nor keep writing.
func TestSupervisorGone(t *testing.T) {
	l, r := inProcess(t)
	r.Close()
	l.Beat()
	if l.Enabled() {
		t.Error("still Enabled after the supervisor closed its end")
	}
	if err := l.Claim("eth1", netip.MustParsePrefix("192.0.2.10/24")); err == nil {
		t.Error("Claim succeeded without a supervisor to honour it")
	}
}
