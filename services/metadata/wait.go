package metadata

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Wait calls Fetch until it succeeds and want (when not nil) accepts the
// result, and returns that result. In early boot the service may be
// unreachable for a while, and /v1/network may list the VLAN interface only
// after a few answers; want says what is still missing (see NeedVLAN,
// NeedUserData, All).
//
// Between tries Wait sleeps, from the least back-off doubling up to the most
// (250 ms .. 5 s by default), starting again from the least when the service
// first answers after failing, so that a late VLAN is seen soon. It logs why
// it waits at the first failure and then at most once per log interval.
// want's error is logged: it must not quote the user data.
//
// Wait returns when ctx is done with an error that wraps ctx.Err() and the
// last reason.
func (c *Client) Wait(ctx context.Context, want func(*Info) error) (*Info, error) {
	o := c.opts
	start := time.Now()
	delay := o.minBackoff
	var (
		last      error
		lastFetch bool // the last failure was Fetch's, not want's
		lastLog   time.Time
		tries     int
		quiet     int // failures not logged since lastLog
	)
	for {
		tries++
		info, err := c.Fetch(ctx)
		fetchFailed := err != nil
		if err == nil && want != nil {
			err = want(info)
		}
		if err == nil {
			if tries > 1 {
				o.log.Info("metadata ready", "tries", tries, "after", time.Since(start).Round(time.Millisecond))
			}
			return info, nil
		}
		if ctx.Err() != nil {
			// A fetch cut short by our own deadline says nothing about the
			// service: report the last real reason when there is one.
			if fetchFailed && last != nil {
				err = last
			}
			return nil, fmt.Errorf("metadata: gave up after %d tries in %s: %w; last: %w",
				tries, time.Since(start).Round(time.Millisecond), ctx.Err(), err)
		}
		if tries > 1 && lastFetch && !fetchFailed {
			// The service answers now; what is missing may come soon.
			delay = o.minBackoff
		}
		last, lastFetch = err, fetchFailed

		if now := time.Now(); lastLog.IsZero() || now.Sub(lastLog) >= o.logEvery {
			o.log.Info("metadata not ready, retrying",
				"reason", last, "tries", tries, "unlogged", quiet, "retry_in", delay)
			lastLog, quiet = now, 0
		} else {
			quiet++
		}

		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("metadata: gave up after %d tries in %s: %w; last: %w",
				tries, time.Since(start).Round(time.Millisecond), ctx.Err(), last)
		case <-t.C:
		}
		delay = min(delay*2, o.maxBackoff)
	}
}

// NeedVLAN is a Wait condition: a VLAN interface with this label, or any
// when label is empty, is listed. It does not ask for an IPAM address: a
// config profile may leave it out (tidegate's site file can give one).
func NeedVLAN(label string) func(*Info) error {
	return func(i *Info) error {
		if _, ok := i.VLAN(label); ok {
			return nil
		}
		if label != "" {
			return fmt.Errorf("%w: want %q", ErrNoVLAN, label)
		}
		return ErrNoVLAN
	}
}

// NeedUserData is a Wait condition: the Linode has user data.
func NeedUserData(i *Info) error {
	if len(i.UserData) == 0 {
		return ErrNoUserData
	}
	return nil
}

// All is a Wait condition that holds when every one of wants holds; its
// error joins theirs.
func All(wants ...func(*Info) error) func(*Info) error {
	return func(i *Info) error {
		var errs []error
		for _, w := range wants {
			if err := w(i); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
