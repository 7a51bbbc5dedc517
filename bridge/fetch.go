//go:build js && wasm

package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// Fetcher is core.Fetcher over the browser's fetch(); body bytes stay in JS. It goes through the
// shim's I/O helpers (js/55-io.js): one call sends the request and answers its head with the
// body's first run of chunks, and each later call answers a run.
type Fetcher struct {
	io safejs.Value
}

// NewFetcher uses io, the object js/55-io.js's bodyIO() returns.
func NewFetcher(io safejs.Value) *Fetcher {
	return &Fetcher{io: io}
}

// WaitOnline implements core.Network with navigator.onLine and the online event.
func (f *Fetcher) WaitOnline(ctx context.Context) (bool, error) {
	p, err := f.io.Call("online")
	if err != nil || p.IsNull() {
		return false, err
	}
	_, err = Await(ctx, p)
	return true, err
}

// Fetch implements core.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, req *core.Request, body any, rangeStart, rangeEnd int64, ifRange string, whole int64) (*core.Response, core.Body, error) {
	p, err := f.io.Call("fetch", req.URL, string(req.InitJSON(rangeStart, rangeEnd, ifRange)), body, whole)
	if err != nil {
		return nil, nil, err
	}
	abort := func() { _, _ = p.Call("abort") }
	// The request is cancelled with the context, until the body is done (no goroutine waits for it).
	stop := context.AfterFunc(ctx, abort)
	resp, b, err := f.open(ctx, p)
	if err != nil {
		stop()
		abort() // a response that arrived but could not be read frees its connection
		return nil, nil, err
	}
	b.stop = stop
	return resp, b, nil
}

// open waits for the fetch helper's answer: the response head, the body's handle (null without
// a body) and its first run.
func (f *Fetcher) open(ctx context.Context, p safejs.Value) (*core.Response, *body_, error) {
	reply, err := Await(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	text, _ := reply.Index(0)
	s, err := text.String()
	if err != nil {
		return nil, nil, err
	}
	resp, err := parseHead(s)
	if err != nil {
		return nil, nil, err
	}
	handle, err := reply.Index(1)
	if err != nil {
		return nil, nil, err
	}
	b := &body_{io: f.io, handle: handle}
	if err := b.take(reply, 2); err != nil {
		return nil, nil, err
	}
	return resp, b, nil
}

// parseHead reads the head as the I/O helper writes it (headText): status, statusText, url, type,
// redirected, then header names and values, a line each.
func parseHead(s string) (*core.Response, error) {
	f := strings.Split(s, "\n")
	status, err := strconv.Atoi(f[0])
	if err != nil || len(f) < 5 || len(f)%2 == 0 {
		return nil, fmt.Errorf("bridge: malformed response head %q", s)
	}
	headers := make([][2]string, 0, (len(f)-5)/2)
	for i := 5; i < len(f); i += 2 {
		headers = append(headers, [2]string{f[i], f[i+1]})
	}
	return &core.Response{Status: status, StatusText: f[1], URL: f[2], Type: f[3], Redirected: f[4] == "1", Headers: headers}, nil
}

// body_ reads a body through the I/O helper, a run of chunks per crossing; each chunk stays a JS
// Uint8Array (the whole body, when the browser read it).
type body_ struct {
	io, handle safejs.Value
	stop       func() bool // ends the link between the context and the request's abort
	closed     bool
	queue      []Chunk        // chunks of the last run not yet handed to the engine
	ended      bool           // the stream has no chunk after the queue
	pending    <-chan outcome // a read whose caller stopped waiting: the next fill takes its run
	forget     func()         // drops pending, for a body cancelled before it settles
}

// Chunk is a JS Uint8Array held by Go.
type Chunk struct {
	Value safejs.Value
	N     int
}

// Len implements core.Chunk.
func (c Chunk) Len() int { return c.N }

// Next implements core.Body. A call ended by ctx takes nothing: chunks queued or still being read
// are the next call's.
func (b *body_) Next(ctx context.Context) (core.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for len(b.queue) == 0 {
		if b.ended || b.handle.IsNull() || b.handle.IsUndefined() {
			return nil, io.EOF
		}
		if err := b.fill(ctx); err != nil {
			return nil, err
		}
	}
	c := b.queue[0]
	b.queue[0] = Chunk{}
	b.queue = b.queue[1:]
	return c, nil
}

// fill reads the next run of chunks, or goes on with the read an earlier call stopped waiting for.
func (b *body_) fill(ctx context.Context) error {
	if b.pending == nil {
		p, err := b.io.Call("read", b.handle)
		if err != nil {
			return err
		}
		if b.pending, b.forget, err = watch(p); err != nil {
			return err
		}
	}
	select {
	case s := <-b.pending:
		b.pending, b.forget = nil, nil
		if s.err != nil {
			return s.err
		}
		return b.take(s.v, 0)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take queues a run, [ended, ...chunks], found in reply from index from.
func (b *body_) take(reply safejs.Value, from int) error {
	n, err := reply.Length()
	if err != nil {
		return err
	}
	ended, _ := reply.Index(from)
	b.ended, _ = ended.Bool()
	for i := from + 1; i < n; i++ {
		v, err := reply.Index(i)
		if err != nil {
			return err
		}
		size, _ := v.Get("byteLength")
		s, _ := size.Int()
		b.queue = append(b.queue, Chunk{Value: v, N: s})
	}
	return nil
}

// Skip implements core.Body: the skipped bytes are copied into Go to be compared, and a chunk they
// end inside is cut (a view of the rest, no copy).
func (b *body_) Skip(ctx context.Context, want []byte) (bool, error) {
	got := make([]byte, 0, len(want))
	for len(got) < len(want) {
		c, err := b.Next(ctx)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return false, err
		}
		ch := c.(Chunk)
		k := min(ch.N, len(want)-len(got))
		part := make([]byte, k)
		if _, err := safejs.CopyBytesToGo(part, ch.Value); err != nil {
			return false, err
		}
		got = append(got, part...)
		if k < ch.N {
			rest, err := ch.Value.Call("subarray", k)
			if err != nil {
				return false, err
			}
			b.queue = append([]Chunk{{Value: rest, N: ch.N - k}}, b.queue...)
		}
	}
	return bytes.Equal(got, want), nil
}

func (b *body_) Cancel() {
	if b.closed {
		return
	}
	b.closed = true
	b.stop()
	if b.forget != nil {
		b.forget()
	}
	if !b.handle.IsNull() && !b.handle.IsUndefined() {
		_, _ = b.io.Call("cancel", b.handle)
	}
}
