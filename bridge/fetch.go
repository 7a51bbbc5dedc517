//go:build js && wasm

package bridge

import (
	"context"
	"io"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/valyala/fastjson"
)

// Fetcher is core.Fetcher over the browser's fetch(); body bytes stay in JS. It goes through the
// shim's I/O helpers (js/55-io.js), which answer a response head or a run of chunks in one crossing.
type Fetcher struct {
	io, abortController, json safejs.Value
}

// NewFetcher uses io, the object js/55-io.js's bodyIO() returns.
func NewFetcher(io safejs.Value) *Fetcher {
	return &Fetcher{io: io, abortController: safejs.MustGetGlobal("AbortController"), json: safejs.MustGetGlobal("JSON")}
}

// Fetch implements core.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, req *core.Request, body any, rangeStart int64, ifRange string) (*core.Response, core.Body, error) {
	ctrl, err := f.abortController.New()
	if err != nil {
		return nil, nil, err
	}
	signal, _ := ctrl.Get("signal")
	init, err := f.requestInit(req, body, rangeStart, ifRange, signal)
	if err != nil {
		return nil, nil, err
	}
	// The request is cancelled with the context, until the body is done (no goroutine waits for it).
	stop := context.AfterFunc(ctx, func() { _, _ = ctrl.Call("abort") })
	resp, handle, err := f.head(ctx, req.URL, init)
	if err != nil {
		stop()
		_, _ = ctrl.Call("abort") // a response that arrived but could not be read frees its connection
		return nil, nil, err
	}
	return resp, &body_{io: f.io, handle: handle, stop: stop}, nil
}

// head sends the request and returns the response head and the body's handle (null without a body).
func (f *Fetcher) head(ctx context.Context, url string, init safejs.Value) (*core.Response, safejs.Value, error) {
	p, err := f.io.Call("fetch", url, init)
	if err != nil {
		return nil, safejs.Null(), err
	}
	pair, err := Await(ctx, p)
	if err != nil {
		return nil, safejs.Null(), err
	}
	text, _ := pair.Index(0)
	s, err := text.String()
	if err != nil {
		return nil, safejs.Null(), err
	}
	v, err := fastjson.Parse(s)
	if err != nil {
		return nil, safejs.Null(), err
	}
	handle, err := pair.Index(1)
	if err != nil {
		return nil, safejs.Null(), err
	}
	return &core.Response{
		Status: v.GetInt("status"), StatusText: string(v.GetStringBytes("statusText")),
		URL: string(v.GetStringBytes("url")), Type: string(v.GetStringBytes("type")),
		Redirected: v.GetBool("redirected"), Headers: core.HeadersFromJSON(v.Get("headers")),
	}, handle, nil
}

// requestInit parses the core's RequestInit JSON (one crossing, where converting a Go map took
// one per field and header) and adds the signal and the body, which are JS values.
func (f *Fetcher) requestInit(req *core.Request, body any, rangeStart int64, ifRange string, signal safejs.Value) (safejs.Value, error) {
	init, err := f.json.Call("parse", string(req.InitJSON(rangeStart, ifRange)))
	if err != nil {
		return safejs.Undefined(), err
	}
	if err := init.Set("signal", signal); err != nil {
		return safejs.Undefined(), err
	}
	if body != nil {
		if err := init.Set("body", body); err != nil {
			return safejs.Undefined(), err
		}
	}
	return init, nil
}

// body_ reads a body through the I/O helper, a run of chunks per crossing; each chunk stays a JS
// Uint8Array.
type body_ struct {
	io, handle safejs.Value
	stop       func() bool // ends the link between the context and the request's abort
	closed     bool
	queue      []Chunk // chunks of the last run not yet handed to the engine
	ended      bool    // the stream has no chunk after the queue
}

// Chunk is a JS Uint8Array held by Go.
type Chunk struct {
	Value safejs.Value
	N     int
}

// Len implements core.Chunk.
func (c Chunk) Len() int { return c.N }

func (b *body_) Next(ctx context.Context) (core.Chunk, error) {
	if err := ctx.Err(); err != nil { // a read that ended hands out nothing more, queued or not
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

// fill reads the next run of chunks.
func (b *body_) fill(ctx context.Context) error {
	p, err := b.io.Call("read", b.handle)
	if err != nil {
		return err
	}
	run, err := Await(ctx, p)
	if err != nil {
		return err
	}
	chunks, _ := run.Index(0)
	ended, _ := run.Index(1)
	b.ended, _ = ended.Bool()
	n, err := chunks.Length()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		v, err := chunks.Index(i)
		if err != nil {
			return err
		}
		size, _ := v.Get("byteLength")
		s, _ := size.Int()
		b.queue = append(b.queue, Chunk{Value: v, N: s})
	}
	return nil
}

func (b *body_) Cancel() {
	if b.closed {
		return
	}
	b.closed = true
	b.stop()
	if !b.handle.IsNull() && !b.handle.IsUndefined() {
		_, _ = b.io.Call("cancel", b.handle)
	}
}
