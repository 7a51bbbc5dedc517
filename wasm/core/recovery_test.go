package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stoppable is a store whose writes fail once stopped, as a worker's do when the browser stops it.
type stoppable struct {
	*memStore
	mu      sync.Mutex
	stopped bool
}

var errStopped = errors.New("the worker stopped")

func (s *stoppable) stop() { s.mu.Lock(); s.stopped = true; s.mu.Unlock() }

func (s *stoppable) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errStopped
	}
	return nil
}

func (s *stoppable) Put(ctx context.Context, uid string, doc Doc, seg *Segment) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.memStore.Put(ctx, uid, doc, seg)
}

func (s *stoppable) Create(ctx context.Context, uid string, docs []Doc, bodies map[int]any) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.memStore.Create(ctx, uid, docs, bodies)
}

func (s *stoppable) Delete(ctx context.Context, uid string) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.memStore.Delete(ctx, uid)
}

// fetchFunc is a Fetcher made of one function, for servers the fake network does not play.
type fetchFunc func(rangeStart int64) (*Response, Body, error)

func (f fetchFunc) Fetch(_ context.Context, _ *Request, _ any, rangeStart, _ int64, _ string, _ int64) (*Response, Body, error) {
	return f(rangeStart)
}

// Scripted answers of a fetchFunc, for a 100-byte body with ETag "e".

// refusedFetch is a request that gets no response.
func refusedFetch() (*Response, Body, error) {
	return nil, nil, errors.New("TypeError: Failed to fetch")
}

// partial answers a request from byte from of a 100-byte body; typ is the response's type.
func partial(from int64, typ string) (*Response, Body, error) {
	return &Response{Status: 206, Type: typ, Headers: [][2]string{{"ETag", `"e"`},
		{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{make([]byte, 100-from)}}, nil
}

// dropAfter is a 200 of a 100-byte body whose connection drops after n bytes.
func dropAfter(n int, typ string) (*Response, Body, error) {
	return &Response{Status: 200, Type: typ, Headers: [][2]string{{"ETag", `"e"`}, {"Content-Length", "100"}}},
		&listBody{chunks: [][]byte{make([]byte, n)}, err: errors.New("TypeError: network error")}, nil
}

// listBody yields its chunks, then err (io.EOF if nil).
type listBody struct {
	chunks [][]byte
	err    error
}

func (b *listBody) Next(context.Context) (Chunk, error) {
	if len(b.chunks) == 0 {
		return nil, cmpOr(b.err, io.EOF)
	}
	c := b.chunks[0]
	b.chunks = b.chunks[1:]
	return bytesChunk(c), nil
}

func (b *listBody) Skip(ctx context.Context, want []byte) (bool, error) {
	same, rest, err := skip(ctx, b.Next, want)
	if len(rest) > 0 {
		b.chunks = append([][]byte{rest}, b.chunks...)
	}
	return same, err
}

func (b *listBody) Cancel() {}

func cmpOr(err, or error) error {
	if err != nil {
		return err
	}
	return or
}

func newFuncHarness(t *testing.T, f Fetcher) *harness { return newNetHarness(t, f, nil) }

func TestAbortIsStoredBeforeItAnswers(t *testing.T) {
	store := &stoppable{memStore: newMemStore()}
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	gate := make(chan struct{})
	net.res["https://a/x"] = &resource{status: 200, body: pattern(50000, 1), etag: `"e"`, gate: gate}
	ctx, stop := context.WithCancel(context.Background())
	first := New(Platform{Store: store, Fetcher: net, Notifier: newRecorder(), NewID: func() string { return "u1" }}, testConfig())
	require.NoError(t, first.Start(ctx))
	s, err := first.Fetch(ctx, "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	gate <- struct{}{}
	require.True(t, first.Abort(ctx, s.UniqueID))
	store.stop() // the worker stops as soon as abort() has answered true
	stop()
	close(gate)

	rec := newRecorder()
	hold := rec.holdEvents() // before the restart, which ends the fetch at once
	h := newHarnessWith(t, store.memStore, net, rec)
	_, found, err := h.e.Get("x")
	require.NoError(t, err)
	assert.False(t, found, "an aborted fetch is not active again after a restart")
	assert.True(t, h.e.Holds(s.UniqueID), "but held until its event settles: pages wait for its final update")
	close(hold)
	final := h.rec.wait(t)
	require.Eventually(t, func() bool { return !h.e.Holds(s.UniqueID) }, 5*time.Second, time.Millisecond, "let go once settled")
	assert.Equal(t, ResultFailure, final.Result)
	assert.Equal(t, ReasonAborted, final.FailureReason)
	assert.Contains(t, h.rec.eventList(), "event:backgroundfetchabort")
}

// seedStored leaves what a worker stopped right after storing all of body, before the record's
// result, leaves: length is the record's known length (-1 for none).
func seedStored(store *memStore, url string, body []byte, length int64) {
	store.seed(&fetchDoc{Version: SchemaVersion, UniqueID: "u1", ID: "x", Phase: phaseActive, Records: []recordDoc{{
		Request:  get(url),
		Response: &Response{Status: 200, StatusText: "OK", URL: url, Type: "basic", Headers: [][2]string{{"ETag", `"e"`}}},
		Length:   length, Segments: 1, Stored: int64(len(body)),
	}}})
	store.segs["u1/0/0/0"] = body
}

// resumeStored starts an engine on a store left holding all of stored as record 0 (length -1 when
// unknown), its result not written, with served at its URL now. It checks the record's body ends as
// want and returns the final update and the requests made. failTail, if not nil, fails reading the
// stored tail back.
func resumeStored(t *testing.T, stored []byte, length int64, served, want []byte, failTail ...error) (Snapshot, []string) {
	t.Helper()
	store := newMemStore()
	if len(failTail) > 0 {
		store.failTail = failTail[0]
	}
	seedStored(store, "https://a/x", stored, length)
	net := &fakeNet{res: map[string]*resource{"https://a/x": {status: 200, body: served, etag: `"e"`}}, chunk: 10000}
	rec := newRecorder()
	hold := rec.holdEvents() // before the start, which may dispatch at once
	h := newHarnessWith(t, store, net, rec)
	final := h.waitWithBody(t, hold, "u1", want)
	net.mu.Lock()
	defer net.mu.Unlock()
	return final, append([]string(nil), net.log...)
}

func TestACompleteBodyWhoseResultWasNotStoredIsNotFetchedAgain(t *testing.T) {
	body := pattern(65536, 3)
	final, requests := resumeStored(t, body, int64(len(body)), body, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, len(body), final.Downloaded)
	assert.Empty(t, requests, "no request for a body stored whole")
}

func TestAResumeAfterEveryByteCompletesTheBody(t *testing.T) {
	body := pattern(65536, 4) // stored without a known length: only the server can tell it is whole
	final, requests := resumeStored(t, body, -1, body, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, len(body), final.Downloaded)
	assert.Equal(t, []string{`GET https://a/x 65526 "e"`}, requests, "its answer is the overlap alone")
}

// Without the stored tail (it could not be read back), a resume asks from the stored byte itself: a
// 416 naming the stored size says the body is complete.
func TestA416AfterEveryByteCompletesTheBody(t *testing.T) {
	body := pattern(65536, 4)
	final, requests := resumeStored(t, body, -1, body, body, errors.New("NotReadableError"))
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, len(body), final.Downloaded)
	assert.Equal(t, []string{`GET https://a/x 65536 "e"`}, requests)
}

func TestA416ForAShorterResourceRestartsTheBody(t *testing.T) {
	shorter := pattern(30000, 6) // the same URL now serves less than is stored
	final, _ := resumeStored(t, pattern(65536, 5), -1, shorter, shorter)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, len(shorter), final.Downloaded)
}

func TestAnEmptyPartialResponseCountsAsAFailedAttempt(t *testing.T) {
	var requests atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
		requests.Add(1)
		if rangeStart == 0 { // half the body, then the connection breaks
			return &Response{Status: 200, Type: "basic", Headers: [][2]string{{"ETag", `"e"`}, {"Content-Length", "100"}}},
				&listBody{chunks: [][]byte{make([]byte, 50)}, err: errors.New("TypeError: network error")}, nil
		}
		// every resume: a valid 206 head whose body ends right after the stored bytes asked again
		return &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
			{"Content-Range", fmt.Sprintf("bytes %d-99/100", rangeStart)}}}, &listBody{chunks: [][]byte{make([]byte, overlap)}}, nil
	}))
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ReasonFetchError, final.FailureReason)
	assert.LessOrEqual(t, requests.Load(), int64(1+testConfig().MaxAttempts), "attempts that bring nothing are bounded")
}

func TestTheLengthOfACrossOriginResponseIsNotTrusted(t *testing.T) {
	decoded := pattern(990, 7) // its Content-Length counts the encoded bytes, and its Content-Encoding is hidden
	var requests atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		requests.Add(1)
		return &Response{Status: 200, Type: "cors", Headers: [][2]string{{"Content-Length", strconv.Itoa(1000)},
			{"Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT"}}}, &listBody{chunks: [][]byte{decoded}}, nil
	}))
	hold := h.rec.holdEvents() // before the fetch, which may end at once
	s, err := h.e.Fetch(context.Background(), "x", []Request{get("https://cdn/x.zip")}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, s.UniqueID, decoded)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 1, requests.Load())
}

func TestARestartKeepsTheFailureThatCancelledTheFetch(t *testing.T) {
	store := newMemStore()
	// Record 1 passed downloadTotal, which cancelled record 0; the stop came before the decision was stored.
	store.seed(&fetchDoc{Version: SchemaVersion, UniqueID: "u1", ID: "x", Phase: phaseActive,
		Options: Options{DownloadTotal: 30000}, Records: []recordDoc{
			{Request: get("https://a/0"), Length: -1, Result: ReasonAborted},
			{Request: get("https://a/1"), Length: -1, Result: ReasonDownloadTotalExceeded},
		}})
	h := newHarness(t, store, nil)
	final := h.rec.wait(t)
	assert.Equal(t, ReasonDownloadTotalExceeded, final.FailureReason)
	assert.Contains(t, h.rec.eventList(), "event:backgroundfetchfail")
}

func TestAResponseThatReplacesAnotherStartsANewGeneration(t *testing.T) {
	var n atomic.Int64
	seen := make(chan struct{}) // the retry waits until the reader has the first head
	h := newFuncHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		if n.Add(1) == 1 { // a head, then the connection breaks before the first byte
			return &Response{Status: 200, StatusText: "OK", Type: "basic", Headers: [][2]string{{"ETag", `"v1"`},
				{"Content-Type", "application/zip"}}}, &listBody{err: errors.New("TypeError: network error")}, nil
		}
		<-seen
		return &Response{Status: 503, StatusText: "Service Unavailable", Type: "basic",
			Headers: [][2]string{{"Content-Type", "text/html"}}}, &listBody{chunks: [][]byte{[]byte("<h1>down</h1>")}}, nil
	}))
	hold := h.rec.holdEvents()
	ctx := context.Background()
	s, err := h.e.Fetch(ctx, "x", []Request{get("https://a/f.zip")}, nil, Options{})
	require.NoError(t, err)
	views, err := h.e.MatchAll(s.UniqueID, nil, QueryOptions{})
	require.NoError(t, err)
	v := views[0]
	for v.Response == nil && v.Result == "" { // as responseReady waits for a head
		v, err = h.e.WaitRecord(ctx, v)
		require.NoError(t, err)
	}
	first := v
	close(seen)
	for v.Result == "" {
		v, err = h.e.WaitRecord(ctx, v)
		require.NoError(t, err)
	}
	close(hold)
	h.rec.wait(t)
	require.Equal(t, 200, first.Response.Status, "a reader got the first head")
	assert.Equal(t, 503, v.Response.Status)
	assert.NotEqual(t, first.Generation, v.Generation, "the 503's body is not the 200's: its reader must fail, not read it")
}

func TestAQuotaErrorStoringANewFetchIsQuotaExceeded(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.store.failCreate = &Error{Name: "QuotaExceededError", Message: "full"}
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	assert.True(t, IsQuotaExceeded(err), "got %v", err)
	_, found, _ := h.e.Get("x")
	assert.False(t, found)
}

func TestTheSameResponseAgainKeepsTheGeneration(t *testing.T) {
	body := pattern(5000, 9)
	var n atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		resp := &Response{Status: 200, StatusText: "OK", Type: "basic", Headers: [][2]string{{"ETag", `"v1"`}}}
		if n.Add(1) == 1 { // the connection breaks before the first byte; the retry gets the same response
			return resp, &listBody{err: errors.New("TypeError: network error")}, nil
		}
		return resp, &listBody{chunks: [][]byte{body}}, nil
	}))
	hold := h.rec.holdEvents()
	s, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	var v RecordView
	require.Eventually(t, func() bool { // the event is held: the records stay available
		views, err := h.e.MatchAll(s.UniqueID, nil, QueryOptions{})
		require.NoError(t, err)
		v = views[0]
		return v.Result != ""
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, ResultSuccess, v.Result)
	assert.Equal(t, 0, v.Generation, "a reader of the first head reads on")
	assert.Equal(t, body, h.store.body(t, s.UniqueID, 0))
	close(hold)
	h.rec.wait(t)
}
