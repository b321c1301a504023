package lab

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// MemoryUsed returns the memory in use inside a gateway's guest, MemTotal
// minus MemAvailable of its /proc/meminfo, in MiB: from tidegate's console
// command show system, or from the seed stack's shell.
func (l *Lab) MemoryUsed(ctx context.Context, g *Gateway) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if g.Seed != nil {
		out, err := g.Seed.ShellOK(ctx, "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo")
		if err != nil {
			return 0, err
		}
		kb := map[string]float64{}
		for _, m := range regexp.MustCompile(`(?m)^(\w+):\s+(\d+) kB`).FindAllStringSubmatch(out, -1) {
			kb[m[1]], _ = strconv.ParseFloat(m[2], 64)
		}
		if kb["MemTotal"] == 0 || kb["MemAvailable"] == 0 {
			return 0, fmt.Errorf("%s: no meminfo in %q", g.Name, out)
		}
		return (kb["MemTotal"] - kb["MemAvailable"]) / 1024, nil
	}
	off := len(g.VM.Console())
	g.VM.Type("show system")
	m, _, err := g.VM.WaitFor(ctx, off, regexp.MustCompile(`Memory:  total [0-9.]+ MiB, used ([0-9.]+) MiB`))
	if err != nil {
		return 0, fmt.Errorf("%s: show system: %w", g.Name, err)
	}
	used := regexp.MustCompile(`used ([0-9.]+) MiB`).FindStringSubmatch(m)
	return strconv.ParseFloat(used[1], 64)
}
