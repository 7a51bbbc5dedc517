//go:build js && wasm

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll drains a body, copying its chunks to Go (the engine never does).
func readAll(t *testing.T, b core.Body) []byte {
	t.Helper()
	defer b.Cancel()
	var out []byte
	total := 0
	for {
		c, err := b.Next(testCtx(t))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		ch, ok := c.(Chunk)
		require.True(t, ok, "chunk is %T", c)
		bytes := goBytes(t, ch.Value)
		require.Equal(t, ch.N, len(bytes), "Len matches the Uint8Array")
		total += c.Len()
		out = append(out, bytes...)
	}
	require.Equal(t, total, len(out))
	return out
}

func get(url string) *core.Request { return &core.Request{URL: url, Method: "GET"} }

func TestFetchWhole(t *testing.T) {
	resp, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/bytes?n=300000"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, "300000", resp.Header("Content-Length"))
	assert.Equal(t, `"bytes-300000"`, resp.Header("ETag"))
	assert.Equal(t, origin(t)+"/bytes?n=300000", resp.URL)
	assert.Equal(t, "basic", resp.Type)
	assert.Equal(t, pattern(0, 300000), readAll(t, body))
}

// A small body comes with its head: the one await of Fetch brings every byte, and reading it
// takes no further call into the I/O helper. (1,000 bytes: the server sends head and body in one
// write; a body past its 4 KB buffer may reach the page in two chunks, a moment apart.)
func TestFetchBringsASmallBodyWithItsHead(t *testing.T) {
	calls := 0
	count, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { calls++; return nil })
	require.NoError(t, err)
	defer count.Release()
	counted, err := jsFunc(`(io, count) => Object.assign({}, io, { read: (b) => { count(); return io.read(b); } })`).Invoke(testIO(), count.Value())
	require.NoError(t, err)
	resp, body, err := NewFetcher(counted).Fetch(testCtx(t), get(origin(t)+"/bytes?n=1000"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	assert.Equal(t, "OK", resp.StatusText)
	assert.False(t, resp.Redirected)
	assert.Equal(t, pattern(0, 1000), readAll(t, body))
	assert.Equal(t, 0, calls, "reads after the first run")
}

func TestParseHead(t *testing.T) {
	resp, err := parseHead("404\nNot Found\nhttp://x/a?b\ncors\n1\ncontent-type\ntext/plain\nx-list\na, b")
	require.NoError(t, err)
	assert.Equal(t, &core.Response{Status: 404, StatusText: "Not Found", URL: "http://x/a?b", Type: "cors", Redirected: true,
		Headers: [][2]string{{"content-type", "text/plain"}, {"x-list", "a, b"}}}, resp)
	resp, err = parseHead("200\n\nhttp://x/\nbasic\n0")
	require.NoError(t, err)
	assert.Empty(t, resp.Headers)
	for _, bad := range []string{"", "200", "200\nOK\nu\nbasic\n0\nname-without-value", "x\nOK\nu\nbasic\n0"} {
		_, err := parseHead(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestFetchRange(t *testing.T) {
	req := get(origin(t) + "/bytes?n=300000")
	resp, body, err := NewFetcher(testIO()).Fetch(testCtx(t), req, nil, 100000, 0, `"bytes-300000"`, 0)
	require.NoError(t, err)
	assert.Equal(t, 206, resp.Status)
	assert.Equal(t, "bytes 100000-299999/300000", resp.Header("Content-Range"))
	assert.Equal(t, pattern(100000, 300000), readAll(t, body))

	// A validator that no longer matches gets the whole body.
	resp, body, err = NewFetcher(testIO()).Fetch(testCtx(t), req, nil, 100000, 0, `"bytes-1"`, 0)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Empty(t, resp.Header("Content-Range"))
	assert.Equal(t, pattern(0, 300000), readAll(t, body))
}

func TestFetchBadStatus(t *testing.T) {
	resp, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/status/404"), nil, 0, 0, "", 0)
	require.NoError(t, err, "an HTTP error is a response, not an error")
	assert.Equal(t, 404, resp.Status)
	assert.False(t, resp.OK())
	assert.Equal(t, "status 404", string(readAll(t, body)))
}

func TestFetchConnectionRefused(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:1/", "http://127.0.0.1:65531/"} {
		start := time.Now()
		_, _, err := NewFetcher(testIO()).Fetch(testCtx(t), get(url), nil, 0, 0, "", 0)
		var je *JSError
		require.True(t, errors.As(err, &je), "%s: %v", url, err)
		assert.Equal(t, "TypeError", je.Name, url)
		assert.Less(t, time.Since(start), 10*time.Second)
	}
}

func TestFetchCancelDuringBody(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	_, body, err := NewFetcher(testIO()).Fetch(ctx, get(origin(t)+"/bytes?n=500000000"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	defer body.Cancel()
	c, err := body.Next(ctx)
	require.NoError(t, err)
	require.Positive(t, c.Len())

	cancel()
	start := time.Now()
	_, err = body.Next(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)

	// The request itself was aborted: the stream fails instead of going on.
	for i := 0; ; i++ {
		_, err = body.Next(testCtx(t))
		if err != nil || i > 1000 {
			break
		}
	}
	var je *JSError
	require.True(t, errors.As(err, &je), "after cancel: %v", err)
	assert.Equal(t, "AbortError", je.Name)
}

func TestFetchPostEcho(t *testing.T) {
	req := &core.Request{
		URL: origin(t) + "/echo", Method: "POST",
		Headers: [][2]string{{"X-Bgfetch-Test", "hello"}, {"Content-Type", "application/octet-stream"}},
		Mode:    "cors", Credentials: "same-origin", Cache: "no-store", Redirect: "follow",
		HasBody: true, BodySize: 9,
	}
	resp, body, err := NewFetcher(testIO()).Fetch(testCtx(t), req, u8(t, []byte("post body")), 0, 0, "", 0)
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status)
	var echo struct {
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	require.NoError(t, json.Unmarshal(readAll(t, body), &echo))
	assert.Equal(t, "POST", echo.Method)
	assert.Equal(t, "hello", echo.Headers["x-bgfetch-test"])
	assert.Equal(t, "post body", echo.Body)
	assert.Empty(t, echo.Headers["range"])
}

// A resumed request sends Range and If-Range next to the request's own headers.
func TestFetchRangeHeaders(t *testing.T) {
	req := &core.Request{URL: origin(t) + "/echo", Method: "GET", Headers: [][2]string{{"X-Bgfetch-Test", "1"}}}
	_, body, err := NewFetcher(testIO()).Fetch(testCtx(t), req, nil, 42, 0, `"v1"`, 0)
	require.NoError(t, err)
	var echo struct{ Headers map[string]string }
	require.NoError(t, json.Unmarshal(readAll(t, body), &echo))
	assert.Equal(t, "bytes=42-", echo.Headers["range"])
	assert.Equal(t, `"v1"`, echo.Headers["if-range"])
	assert.Equal(t, "1", echo.Headers["x-bgfetch-test"])

	_, body, err = NewFetcher(testIO()).Fetch(testCtx(t), req, nil, 42, 99, `"v1"`, 0) // a window (core.Config.Window)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(readAll(t, body), &echo))
	assert.Equal(t, "bytes=42-99", echo.Headers["range"])
}

// A body is read in runs: one crossing brings every chunk the stream already holds, and the
// chunks taken before a failed read reach the engine before the failure does. The reader is a
// scripted one, so when each read settles is exact.
func TestBodyReadsRunsAndDeliversChunksBeforeAFailure(t *testing.T) {
	handle, err := jsFunc(`() => {
		const chunk = (n) => ({ done: false, value: new Uint8Array(n) });
		const reads = [
			() => Promise.resolve(chunk(1)),
			() => Promise.resolve(chunk(2)),
			() => new Promise((r) => setTimeout(() => r(chunk(3)), 50)), // not there yet: the run ends
			() => Promise.reject(new TypeError('network error')),
		];
		let i = 0;
		return { reader: { read: () => reads[i++](), cancel: () => Promise.resolve() }, pending: null };
	}`).Invoke()
	require.NoError(t, err)
	calls := 0
	count, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { calls++; return nil })
	require.NoError(t, err)
	defer count.Release()
	counted, err := jsFunc(`(io, count) => ({ read: (b) => { count(); return io.read(b); }, cancel: (b) => io.cancel(b) })`).Invoke(testIO(), count.Value())
	require.NoError(t, err)
	b := &body_{io: counted, handle: handle, stop: func() bool { return true }}
	defer b.Cancel()
	var sizes []int
	for {
		c, err := b.Next(testCtx(t))
		if err != nil {
			var jsErr *JSError
			require.ErrorAs(t, err, &jsErr)
			assert.Equal(t, "TypeError", jsErr.Name)
			break
		}
		sizes = append(sizes, c.Len())
	}
	assert.Equal(t, []int{1, 2, 3}, sizes, "every chunk before the failure, in order")
	assert.Equal(t, 3, calls, "a run of the two chunks at hand, one of the chunk that came later, one for the failure")
}

// A read the engine stops waiting for (to store the bytes it holds while the network pauses) is
// not lost: the next call takes its chunks, and no second read is started meanwhile.
func TestBodyReadInterruptedKeepsItsChunks(t *testing.T) {
	handle, err := jsFunc(`() => {
		const chunk = (n) => ({ done: false, value: new Uint8Array(n) });
		const reads = [
			() => Promise.resolve(chunk(1)),
			() => new Promise((r) => setTimeout(() => r(chunk(2)), 150)),
			() => Promise.resolve({ done: true }),
		];
		const h = { reads: 0, pending: null };
		h.reader = { read: () => reads[h.reads++](), cancel: () => Promise.resolve() };
		return h;
	}`).Invoke()
	require.NoError(t, err)
	b := &body_{io: testIO(), handle: handle, stop: func() bool { return true }}
	defer b.Cancel()
	c, err := b.Next(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, c.Len())

	short, cancel := context.WithTimeout(testCtx(t), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Next(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 120*time.Millisecond, "the wait ends with its context, before the chunk comes")

	c, err = b.Next(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 2, c.Len(), "the interrupted read's chunk")
	_, err = b.Next(testCtx(t))
	assert.Equal(t, io.EOF, err)
	reads, _ := handle.Get("reads")
	n, _ := reads.Int()
	assert.Equal(t, 3, n, "one read per chunk, and one for the end")
}

// A body whose Content-Length has arrived in full ends with the run that brings its last byte,
// without waiting for the stream's close (which never comes, here). The close is still read, and the
// stream is not cancelled: a cancel may close the connection the next request could reuse.
func TestBodyEndsAtItsDeclaredLength(t *testing.T) {
	handle, err := jsFunc(`() => {
		const reads = [
			() => Promise.resolve({ done: false, value: new Uint8Array(3) }),
			() => new Promise((r) => setTimeout(() => r({ done: false, value: new Uint8Array(2) }), 20)),
			() => new Promise(() => {}),
		];
		const h = { reads: 0, cancels: 0, pending: null, left: 5 };
		h.reader = { read: () => reads[h.reads++](), cancel: () => { h.cancels++; return Promise.resolve(); } };
		return h;
	}`).Invoke()
	require.NoError(t, err)
	b := &body_{io: testIO(), handle: handle, stop: func() bool { return true }}
	var sizes []int
	for {
		c, err := b.Next(testCtx(t))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		sizes = append(sizes, c.Len())
	}
	b.Cancel()
	assert.Equal(t, []int{3, 2}, sizes)
	reads, _ := handle.Get("reads")
	cancels, _ := handle.Get("cancels")
	n, _ := reads.Int()
	m, _ := cancels.Int()
	assert.Equal(t, 3, n, "the close is read")
	assert.Equal(t, 0, m, "a body that arrived whole is not cancelled")
}

// The declared length comes from Content-Length, except for an encoded body, whose chunks are
// decoded, and a cross-origin one, which hides Content-Encoding.
func TestFetchDeclaresTheBodyLength(t *testing.T) {
	same := origin(t)
	cross := strings.Replace(same, "127.0.0.1", "localhost", 1) // the same server, another origin
	require.NotEqual(t, same, cross)
	for url, want := range map[string]int{
		same + "/bytes?n=70000":        70000,
		same + "/bytes?n=70000&gzip=1": -1,
		cross + "/bytes?n=70000":       -1,
	} {
		path := url
		_, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(url), nil, 0, 0, "", 0)
		require.NoError(t, err, path)
		b := body.(*body_)
		left, err := b.handle.Get("left")
		require.NoError(t, err)
		n, _ := left.Int()
		if want < 0 {
			assert.Equal(t, -1, n, path)
		} else {
			queued := 0 // the first run came with the head
			for _, c := range b.queue {
				queued += c.N
			}
			assert.Equal(t, want, n+queued, path)
		}
		total := 0
		for {
			c, err := b.Next(testCtx(t))
			if err == io.EOF {
				break
			}
			require.NoError(t, err, path)
			total += c.Len()
		}
		assert.Equal(t, 70000, total, path)
		b.Cancel()
	}
}

// Cancel calls reader.cancel(), whose promise rejects once the stream has
// failed (here: aborted); nothing handles it, so the page or worker reports an
// unhandled rejection for every fetch cut short.
func TestFetchCancelAfterAbortIsQuiet(t *testing.T) {
	count, err := jsFunc(`() => {
		let n = 0;
		addEventListener('unhandledrejection', () => { n++; });
		return () => n;
	}`).Invoke()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(testCtx(t))
	_, body, err := NewFetcher(testIO()).Fetch(ctx, get(origin(t)+"/bytes?n=500000000"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	_, err = body.Next(ctx)
	require.NoError(t, err)
	cancel()
	_, err = body.Next(testCtx(t))
	require.Error(t, err)
	read := func() int {
		n, err := count.Invoke()
		require.NoError(t, err)
		i, _ := n.Int()
		return i
	}
	time.Sleep(100 * time.Millisecond)
	before := read()
	body.Cancel()
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, before, read(), "unhandled rejections after Cancel")
}

// A body that declares at most whole bytes comes as one Uint8Array the browser read, with its
// head; a larger one, or one whose length is not declared (encoded), streams as before.
func TestFetchReadsASmallBodyWhole(t *testing.T) {
	for _, c := range []struct {
		path  string
		whole int64
		one   bool
	}{
		{"/bytes?n=300000", 300000, true},
		{"/bytes?n=300000", 299999, false},
		{"/bytes?n=300000&gzip=1", 1 << 20, false},
	} {
		_, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+c.path), nil, 0, 0, "", c.whole)
		require.NoError(t, err, c.path)
		b := body.(*body_)
		require.NotEmpty(t, b.queue, c.path)
		assert.Equal(t, c.one, b.handle.IsNull(), "%s with whole %d: no stream to read", c.path, c.whole)
		if c.one {
			assert.True(t, b.ended, "the chunk is the whole body")
			assert.Len(t, b.queue, 1)
		}
		assert.Equal(t, pattern(0, 300000), readAll(t, body), c.path)
	}
}

// A whole read that fails after the head reports the failure at the body's first read.
func TestFetchWholeReadFailureComesFromTheBody(t *testing.T) {
	resp, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/bytes?n=50000&cut=20000"), nil, 0, 0, "", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	defer body.Cancel()
	_, err = body.Next(testCtx(t))
	var jsErr *JSError
	require.ErrorAs(t, err, &jsErr)
	assert.Equal(t, "TypeError", jsErr.Name)
}

// Skip compares the body's first bytes with the stored tail a resume asks for again, and leaves
// the rest of the body to read, from inside a chunk too.
func TestFetchSkip(t *testing.T) {
	for _, whole := range []int64{0, 1 << 20} { // streamed, and read whole by the browser (one chunk)
		_, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/bytes?n=300000"), nil, 0, 0, "", whole)
		require.NoError(t, err)
		same, err := body.Skip(testCtx(t), pattern(0, 4096))
		require.NoError(t, err)
		assert.True(t, same, "whole %d", whole)
		assert.Equal(t, pattern(4096, 300000), readAll(t, body), "whole %d", whole)
	}

	_, body, err := NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/bytes?n=300000"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	other := pattern(0, 4096)
	other[4095]++
	same, err := body.Skip(testCtx(t), other)
	require.NoError(t, err)
	assert.False(t, same, "one byte differs")
	body.Cancel()

	_, body, err = NewFetcher(testIO()).Fetch(testCtx(t), get(origin(t)+"/bytes?n=100"), nil, 0, 0, "", 0)
	require.NoError(t, err)
	_, err = body.Skip(testCtx(t), pattern(0, 200))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body ends inside the bytes asked again")
	body.Cancel()
}
