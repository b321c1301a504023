package consolelog

import (
	"io"
	"slices"
	"sync"
)

// shared is what every logger New makes writes to after its own writer:
// the ring (Recent) and the tees, under one lock, so that Tee's replay of
// the ring and the lines logged meanwhile neither miss nor repeat a line.
type shared struct{}

var (
	teeMu sync.Mutex
	tees  []*tee
)

// A tee is one writer added by Tee; a pointer, so that two Tees of the same
// writer stop separately.
type tee struct{ w io.Writer }

func (shared) Write(p []byte) (int, error) {
	teeMu.Lock()
	defer teeMu.Unlock()
	_, _ = Recent.Write(p)
	for _, t := range tees {
		_, _ = t.w.Write(p)
	}
	return len(p), nil
}

// Tee hands every line the loggers of New write from now on to w as well,
// one Write per line, until the returned function is called. With replay,
// w first gets the lines Recent holds, so that it sees what was logged
// before it was known where to send it (the lines of a boot before the
// site configuration came).
//
// w is called with the loggers' lock held: it must not block nor log.
func Tee(w io.Writer, replay bool) (stop func()) {
	t := &tee{w}
	teeMu.Lock()
	if replay {
		for _, l := range Recent.Lines() {
			_, _ = w.Write([]byte(l))
		}
	}
	tees = append(tees, t)
	teeMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			teeMu.Lock()
			tees = slices.DeleteFunc(tees, func(x *tee) bool { return x == t })
			teeMu.Unlock()
		})
	}
}
