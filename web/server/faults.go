package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// faults are the optional misbehaviours requested through the query string.
type faults struct {
	rate        int64  // body bytes per second; 0 means unthrottled
	ignoreRange bool   // answer 200 with the full body even when a Range was sent
	dropAt      int64  // first request only: close the connection at this offset; -1 is off
	stallAt     int64  // first request only: stop sending at this offset; -1 is off
	status      int    // forced status code; 0 is off
	change      string // once drop or stall fired, later requests get this version: the resource changed
	stale       bool   // with change: the new version keeps the first one's validators (ETag, Last-Modified)
	length      int64  // a 200 is sent chunked while declaring this Content-Length; -1 is off
}

// parseFaults reads the fault parameters; malformed values are errors so typos are loud.
func parseFaults(q url.Values) (faults, error) {
	f := faults{dropAt: -1, stallAt: -1}
	var err error
	if f.length, err = intParam(q, "length", -1); err != nil {
		return f, err
	}
	if f.rate, err = intParam(q, "rate", 0); err != nil {
		return f, err
	}
	if f.dropAt, err = intParam(q, "drop", -1); err != nil {
		return f, err
	}
	if f.stallAt, err = intParam(q, "stall", -1); err != nil {
		return f, err
	}
	status, err := intParam(q, "status", 0)
	if err != nil {
		return f, err
	}
	if q.Has("status") && (status < 200 || status > 599) {
		return f, errors.New("status must be between 200 and 599")
	}
	f.status = int(status)
	if v := q.Get("ignore-range"); v != "" && v != "0" {
		f.ignoreRange = true
	}
	if f.dropAt >= 0 && f.stallAt >= 0 {
		return f, errors.New("drop and stall cannot be combined")
	}
	f.change = q.Get("change")
	if q.Has("change") && (f.change == "" || f.dropAt < 0 && f.stallAt < 0) {
		return f, errors.New("change needs a version and a drop or stall")
	}
	if f.stale = q.Has("stale"); f.stale && f.change == "" {
		return f, errors.New("stale needs change")
	}
	return f, nil
}

// intParam parses a non-negative integer parameter, returning def when absent.
func intParam(q url.Values, name string, def int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s=%q", name, q.Get(name))
	}
	return n, nil
}

// version is the content version to serve: change once this URL's fault has fired, else v.
func (s *Server) version(r *http.Request, f faults) string {
	if f.change != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.faulted[r.URL.Path+"?"+r.URL.RawQuery] {
			return f.change
		}
	}
	return r.URL.Query().Get("v")
}

// cutOffset returns where this request's body must stop, consuming a one-shot fault;
// drop reports whether to break the connection there rather than stall.
func (s *Server) cutOffset(r *http.Request, f faults) (offset int64, drop, ok bool) {
	if f.dropAt < 0 && f.stallAt < 0 {
		return 0, false, false
	}
	key := r.URL.Path + "?" + r.URL.RawQuery
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faulted[key] {
		return 0, false, false
	}
	s.faulted[key] = true
	if f.dropAt >= 0 {
		return f.dropAt, true, true
	}
	return f.stallAt, false, true
}

// throttle paces writes so the bytes sent never run ahead of rate since start.
type throttle struct {
	ctx   context.Context
	w     io.Writer
	flush func() error
	rate  float64
	slice int
	start time.Time
	sent  int64
}

func newThrottle(ctx context.Context, w io.Writer, flush func() error, rate int64) *throttle {
	// ~100 writes per second keeps pacing smooth without flooding tiny packets.
	slice := int(min(max(rate/100, 1), blockSize))
	return &throttle{ctx: ctx, w: w, flush: flush, rate: float64(rate), slice: slice, start: time.Now()}
}

func (t *throttle) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), t.slice)
		// Wait until the last byte of this slice is due, so the client sees the target rate.
		due := t.start.Add(time.Duration(float64(t.sent+int64(n)) / t.rate * float64(time.Second)))
		if err := sleepUntil(t.ctx, due); err != nil {
			return written, err
		}
		m, err := t.w.Write(p[:n])
		written += m
		t.sent += int64(m)
		if err != nil {
			return written, err
		}
		if err := t.flush(); err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// sleepUntil waits for the deadline or for the client to go away.
func sleepUntil(ctx context.Context, deadline time.Time) error {
	d := time.Until(deadline)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
