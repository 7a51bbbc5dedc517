//go:build js && wasm

package bridge

import (
	"context"
	"io"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/valyala/fastjson"
)

// Fetcher is core.Fetcher over the browser's fetch(); body bytes stay in JS.
type Fetcher struct {
	fetch, abortController, json, arrayFrom safejs.Value
}

// NewFetcher looks up the JS functions it uses once.
func NewFetcher() *Fetcher {
	array := safejs.MustGetGlobal("Array")
	from, _ := array.Get("from")
	fetch, _ := safejs.MustGetGlobal("fetch").Call("bind", safejs.Global())
	return &Fetcher{
		fetch:           fetch,
		abortController: safejs.MustGetGlobal("AbortController"),
		json:            safejs.MustGetGlobal("JSON"),
		arrayFrom:       from,
	}
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
	done := make(chan struct{})
	go func() { // the request is cancelled with the context, until the body is done
		select {
		case <-ctx.Done():
			_, _ = ctrl.Call("abort")
		case <-done:
		}
	}()
	p, err := f.fetch.Invoke(req.URL, init)
	if err != nil {
		close(done)
		return nil, nil, err
	}
	res, err := Await(ctx, p)
	if err != nil {
		close(done)
		return nil, nil, err
	}
	resp, err := f.response(res)
	if err != nil {
		close(done)
		return nil, nil, err
	}
	b := &body_{ctrl: ctrl, done: done}
	if stream, _ := res.Get("body"); truthy(stream) {
		b.reader, err = stream.Call("getReader")
		if err != nil {
			close(done)
			return nil, nil, err
		}
	}
	return resp, b, nil
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

func (f *Fetcher) response(res safejs.Value) (*core.Response, error) {
	r := &core.Response{}
	var err error
	num := func(name string) int {
		v, e := res.Get(name)
		if e != nil {
			err = e
			return 0
		}
		n, _ := v.Int()
		return n
	}
	str := func(name string) string {
		s, e := stringProp(res, name)
		if e != nil {
			err = e
		}
		return s
	}
	r.Status = num("status")
	r.StatusText, r.URL, r.Type = str("statusText"), str("url"), str("type")
	redirected, _ := res.Get("redirected")
	r.Redirected, _ = redirected.Bool()
	hs, _ := res.Get("headers")
	pairs, _ := f.arrayFrom.Invoke(hs)
	text, e := f.json.Call("stringify", pairs)
	if e != nil {
		return nil, e
	}
	s, _ := text.String()
	pv, e := fastjson.Parse(s)
	if e != nil {
		return nil, e
	}
	r.Headers = core.HeadersFromJSON(pv)
	return r, err
}

// body_ reads a ReadableStream chunk by chunk; each chunk stays a JS Uint8Array.
type body_ struct {
	reader safejs.Value
	ctrl   safejs.Value
	done   chan struct{}
	closed bool
}

// Chunk is a JS Uint8Array held by Go.
type Chunk struct {
	Value safejs.Value
	N     int
}

// Len implements core.Chunk.
func (c Chunk) Len() int { return c.N }

func (b *body_) Next(ctx context.Context) (core.Chunk, error) {
	if b.reader.IsUndefined() || b.reader.IsNull() {
		return nil, io.EOF
	}
	p, err := b.reader.Call("read")
	if err != nil {
		return nil, err
	}
	res, err := Await(ctx, p)
	if err != nil {
		return nil, err
	}
	d, _ := res.Get("done")
	if done, _ := d.Bool(); done {
		return nil, io.EOF
	}
	v, _ := res.Get("value")
	n, _ := v.Get("byteLength")
	size, _ := n.Int()
	return Chunk{Value: v, N: size}, nil
}

func (b *body_) Cancel() {
	if b.closed {
		return
	}
	b.closed = true
	close(b.done)
	if !b.reader.IsUndefined() && !b.reader.IsNull() {
		if p, err := b.reader.Call("cancel"); err == nil {
			_, _ = p.Call("catch", ignore) // a stream that already failed rejects here; nothing to report
		}
	}
}

// ignore is a JS function that does nothing, for promises whose outcome does not matter.
var ignore, _ = safejs.MustGetGlobal("Function").New()

func truthy(v safejs.Value) bool {
	t, _ := v.Truthy()
	return t
}
