package core

import (
	"context"
	"errors"
	"strings"
)

// A large body fetched a window at a time. Firefox reads a response from the network as fast as it
// comes, however slowly its reader takes it (measured: a page that had read 8 MB held the whole 512
// MB response in its process four seconds later; a 1 GiB download took 0.85 GiB more of its memory
// than a 64 MiB one), so a body read slower than it arrived piled up in the browser's memory without
// bound, and a stop lost all of it. So a same-origin body that takes ranges is read from its response for
// Config.Window bytes, which is then cut, and the rest is asked for a window at a time: the browser
// holds at most a window beyond what the worker has read. The next window is asked for once the
// worker has read the one before to its end, which costs a round trip a window: asked for before
// that (at the last quarter, or two round trips before the end at the reading's pace), it had the
// browser fill a second connection's buffer too, which a stop lost (Chromium, paired runs: 11–20 MiB
// a stop against 4.7).

// errWindow: a window's response was not the next bytes of the same version (by its Content-Range
// and its ETag, the stored response's). The record's next attempt is an ordinary resume, which
// checks what it continues, and asks for no windows.
var errWindow = errors.New("a window of the body was not its next bytes")

// windowBody reads a body through its windows. Its chunks are the body's bytes from pos on.
type windowBody struct {
	e       *Engine
	f       *bgFetch
	i       int
	ctx     context.Context // the attempt's: windows are asked for with it
	wd      *watchdog       // the attempt's: a window queued behind other downloads is no stall
	req     *Request
	head    *Response // the stored response, which each window's must match
	length  int64
	ifRange string
	cur     Body
	pos     int64       // the offset of cur's next byte
	end     int64       // cur's last byte: past it, the next window is read
	cut     bool        // cur is the open-ended response, cancelled past end (between two chunks)
	next    chan window // the next window, asked for once cur is read to its end
}

type window struct {
	body Body
	last int64
	err  error
}

// windowed returns the window size for record rec (whose response is stored), or 0 when its body
// is read in one piece: a cross-origin resource may be sliced in its encoded bytes, a server that
// does not say it takes ranges may send the whole body again, a body checked for integrity is
// checked whole, and without a strong ETag a window could be of another version (unlike a resume, a
// window has no stored bytes to ask for again).
func (e *Engine) windowed(f *bgFetch, i int, rec *recordDoc) int64 {
	e.mu.Lock()
	off := f.unwindowed[i]
	e.mu.Unlock()
	if e.cfg.Window <= 0 || off || !canResume(rec) || !rec.Response.OK() || rec.Response.Type != "basic" ||
		rec.Request.Integrity != "" || !strongETag(rec.Response) ||
		!strings.Contains(rec.Response.Header("Accept-Ranges"), "bytes") {
		return 0
	}
	return e.cfg.Window
}

func strongETag(r *Response) bool {
	et := r.Header("ETag")
	return et != "" && !strings.HasPrefix(et, "W/")
}

// unwindow reads record i in one piece from its next attempt on: its server answered a window
// with other bytes, or no answer.
func (w *windowBody) unwindow() {
	w.e.mu.Lock()
	w.f.unwindowed[w.i] = true
	w.e.mu.Unlock()
}

// windows wraps the open-ended stream, whose next byte is pos, to cut it past end.
func (e *Engine) windows(ctx context.Context, wd *watchdog, f *bgFetch, i int, rec *recordDoc, stream Body, pos, end int64) Body {
	req := rec.Request // the attempt reuses rec while a window may still be asked for
	return &windowBody{e: e, f: f, i: i, ctx: ctx, wd: wd, req: &req, head: rec.Response, length: rec.Length,
		ifRange: validator(rec.Response), cur: stream, pos: pos, end: end, cut: true}
}

func (w *windowBody) Next(ctx context.Context) (Chunk, error) {
	if w.pos > w.end && w.pos < w.length { // at the length, cur ends (or brings more than it declared)
		if err := w.advance(ctx); err != nil {
			return nil, err
		}
	}
	c, err := w.cur.Next(ctx)
	if err != nil {
		return c, err // a window that ends short ends the body short: the attempt resumes it
	}
	if !w.cut && w.pos+int64(c.Len()) > w.end+1 {
		w.unwindow()
		return nil, errWindow // longer than its range: its bytes are not where they would be stored
	}
	w.pos += int64(c.Len())
	return c, nil
}

// advance moves to the next window once cur is read to its end.
func (w *windowBody) advance(ctx context.Context) error {
	if w.next == nil {
		w.cur.Cancel() // at a cut, the browser stops taking in the response; a window is done
		w.ask(w.pos)
	}
	// The browser may hold the window back behind its connections to the host, busy with other
	// downloads (their windows too): like a wait for a head, it stalls only if nothing arrives at all.
	w.wd.awaitTurn()
	defer w.wd.turnCame()
	select {
	case n := <-w.next:
		w.next = nil
		if n.err != nil {
			return n.err
		}
		w.cur, w.end, w.cut = n.body, n.last, false
		return nil
	case <-ctx.Done(): // the window is taken by the next call
		return ctx.Err()
	}
}

// ask requests the window from start on.
func (w *windowBody) ask(start int64) {
	ch := make(chan window, 1)
	w.next = ch
	go func() { ch <- w.open(start) }()
}

func (w *windowBody) open(start int64) window {
	end := min(start+w.e.cfg.Window, w.length) - 1
	resp, body, err := w.e.p.Fetcher.Fetch(w.ctx, w.req, nil, start, end, w.ifRange, 0)
	if err != nil {
		if w.ctx.Err() == nil || w.wd.stalled(err) == errStalled { // not the attempt ending for another reason
			w.unwindow() // a server or proxy may fail ranges for good: each try would wait out a stall
		}
		return window{err: err}
	}
	first, last, length, ok := parseContentRange(resp.Header("Content-Range"))
	if n := declaredLength(resp); resp.Status != 206 || !ok || first != start || length != w.length ||
		(n >= 0 && n != last-first+1) || resp.Header("ETag") != w.head.Header("ETag") {
		body.Cancel()
		w.unwindow()
		return window{err: errWindow}
	}
	return window{body: body, last: last}
}

// Skip is never called: the overlap of a resume is read before its windows.
func (w *windowBody) Skip(ctx context.Context, want []byte) (bool, error) {
	return w.cur.Skip(ctx, want)
}

func (w *windowBody) Cancel() {
	w.cur.Cancel()
	if w.next != nil {
		go func(ch chan window) { // a window asked for and not read
			if n := <-ch; n.body != nil {
				n.body.Cancel()
			}
		}(w.next)
	}
}
