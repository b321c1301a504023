package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
)

// Pinger pings from the VLAN host every interval and records the replies,
// so that a test can measure the longest gap in them around an event.
type Pinger struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	replies []time.Time
	seqs    []int // icmp_seq of each reply
	done    chan struct{}
}

var pingReply = regexp.MustCompile(`^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)`)

// StartPinger pings dst from the VLAN host (ping -D: each reply is
// timestamped) every interval until Stop.
func (l *Lab) StartPinger(dst string, interval time.Duration) (*Pinger, error) {
	return l.StartPingerFrom("", dst, interval)
}

// StartPingerFrom is StartPinger from the VLAN host's address src ("" lets
// the kernel choose).
func (l *Lab) StartPingerFrom(src, dst string, interval time.Duration) (*Pinger, error) {
	p := &Pinger{done: make(chan struct{})}
	args := []string{"-D", "-n", "-i", strconv.FormatFloat(interval.Seconds(), 'f', 3, 64), "-W", "1"}
	if src != "" {
		args = append(args, "-I", src)
	}
	p.cmd = l.Host.Command("ping", append(args, dst)...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := deathsig.Start(p.cmd); err != nil {
		return nil, err
	}
	go p.read(out)
	return p, nil
}

func (p *Pinger) read(r io.Reader) {
	defer close(p.done)
	s := bufio.NewScanner(r)
	for s.Scan() {
		m := pingReply.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseFloat(m[1], 64)
		seq, _ := strconv.Atoi(m[2])
		p.mu.Lock()
		p.replies = append(p.replies, time.Unix(0, int64(sec*1e9)))
		p.seqs = append(p.seqs, seq)
		p.mu.Unlock()
	}
}

// Stop ends the pinger.
func (p *Pinger) Stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	<-p.done
}

// Replies is how many replies arrived so far.
func (p *Pinger) Replies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.replies)
}

// WaitReplies waits until n more replies arrived than when called, so that a
// test knows traffic flows again after an event.
func (p *Pinger) WaitReplies(ctx context.Context, n int) error {
	want := p.Replies() + n
	for p.Replies() < want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no replies: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// Lost is how many echo requests got no reply between the first and the
// last reply received after since: the gaps in the replies' sequence
// numbers (ping's own count, whatever its real sending rate).
func (p *Pinger) Lost(since time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	first, last, got := -1, -1, 0
	for i, r := range p.replies {
		if r.Before(since) {
			continue
		}
		if first < 0 {
			first = p.seqs[i]
		}
		last = p.seqs[i]
		got++
	}
	if first < 0 {
		return 0
	}
	// icmp_seq wraps at 65536: at 100/s that is 11 minutes, longer than a
	// scenario.
	return (last - first + 1) - got
}

// LongestGap is the longest time between two consecutive replies after
// since, and when it started.
func (p *Pinger) LongestGap(since time.Time) (gap time.Duration, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var prev time.Time
	for _, r := range p.replies {
		if r.Before(since) {
			prev = r
			continue
		}
		if !prev.IsZero() && r.Sub(prev) > gap {
			gap, at = r.Sub(prev), prev
		}
		prev = r
	}
	return gap, at
}
