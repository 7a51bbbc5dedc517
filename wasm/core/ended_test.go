package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An aborted fetch resumed at a restart sends no request: its records end aborted where they are.
func TestAbortedFetchSendsNoRequestOnRestart(t *testing.T) {
	store := newMemStore()
	post := Request{URL: "https://a/p", Method: "POST", Mode: "cors"}
	store.seed(&fetchDoc{Version: SchemaVersion, UniqueID: "u1", ID: "x", Phase: phaseAborted, Records: []recordDoc{
		{Request: get("https://a/0"), Length: -1}, {Request: get("https://a/1"), Length: -1}, {Request: post, Length: -1}}})
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	for _, u := range []string{"https://a/0", "https://a/1", "https://a/p"} {
		net.res[u] = &resource{status: 200, body: []byte("hello"), etag: `"e"`}
	}
	h := newHarness(t, store, net)
	assert.Equal(t, ReasonAborted, h.rec.wait(t).FailureReason)
	net.mu.Lock()
	defer net.mu.Unlock()
	assert.Empty(t, net.log, "requests of an aborted fetch")
}

// Records that had not started when abort() returned never send their requests.
func TestNoRequestStartsAfterAbort(t *testing.T) {
	h := newHarness(t, nil, nil)
	gate := make(chan struct{})
	var reqs []Request
	for i := 0; i < 10; i++ {
		u := fmt.Sprintf("https://a/%d", i)
		h.net.res[u] = &resource{status: 200, body: []byte("hello"), etag: `"e"`, headGate: gate}
		reqs = append(reqs, get(u))
	}
	snap, err := h.e.Fetch(context.Background(), "x", reqs, nil, Options{})
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // the first requests hold every slot, waiting for their heads
	h.net.mu.Lock()
	before := len(h.net.log)
	h.net.mu.Unlock()
	require.True(t, h.e.Abort(context.Background(), snap.UniqueID))
	h.rec.wait(t)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Equal(t, before, len(h.net.log), "requests sent after abort(): %v", h.net.log[before:])
}

// Three failed attempts in a row without a new byte fail a record; one that stored bytes before
// it failed does not count, and neither does a partial 206 that ends early.
func TestFailuresCountOnlyAttemptsWithoutProgress(t *testing.T) {
	for name, script := range map[string]func(n int64, from int64) (*Response, Body, error){
		"a drop after bytes, then two refusals": func(n, from int64) (*Response, Body, error) {
			switch n {
			case 1:
				return dropAfter(50, "basic")
			case 2, 3:
				return refusedFetch()
			}
			return partial(from, "basic")
		},
		"a partial 206 between refusals": func(n, from int64) (*Response, Body, error) {
			switch n {
			case 1, 3, 5, 6:
				return refusedFetch()
			case 2:
				return dropAfter(10, "basic")
			case 4: // ten more bytes, and a clean end before the last
				return &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
					{"Content-Range", fmt.Sprintf("bytes %d-%d/100", from, from+9)}}}, &listBody{chunks: [][]byte{make([]byte, 10)}}, nil
			}
			return partial(from, "basic")
		},
	} {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) { return script(n.Add(1), from) }))
			_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
			require.NoError(t, err)
			assert.Equal(t, ResultSuccess, h.rec.wait(t).Result, "after %d requests", n.Load())
		})
	}
}

// abort() landing just after a record's last segment was stored with its success leaves the
// record a success: its body stays readable in the abort event (SPEC §3.3).
func TestAbortAfterARecordCompletedKeepsItsSuccess(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/x"] = &resource{status: 200, body: pattern(5000, 1), etag: `"x"`}
	var once sync.Once
	var uid atomic.Value
	h.store.onPut = func(doc Doc, seg *Segment) {
		if seg != nil && strings.Contains(string(doc.JSON), `"result":"success"`) {
			once.Do(func() {
				go h.e.Abort(context.Background(), uid.Load().(string))
				time.Sleep(20 * time.Millisecond) // abort() cancels the fetch before the record returns
			})
		}
	}
	hold := h.rec.holdEvents()
	gate := make(chan struct{})
	h.net.res["https://a/x"].headGate = gate
	snap, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	uid.Store(snap.UniqueID)
	close(gate)
	require.Eventually(t, func() bool {
		events := h.rec.eventList()
		return len(events) > 0 && events[len(events)-1] == "event:backgroundfetchabort"
	}, 5*time.Second, 5*time.Millisecond, "the abort event is dispatched (and held)")
	views, err := h.e.MatchAll(snap.UniqueID, nil, QueryOptions{})
	require.NoError(t, err)
	close(hold)
	h.rec.wait(t)
	require.Len(t, views, 1)
	assert.Equal(t, ResultSuccess, views[0].Result)
}

// A settled fetch's context is released once its data is deleted, so a long-lived engine does not
// keep one per fetch it ever ran.
func TestSettledFetchReleasesItsContext(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/x"] = &resource{status: 200, body: []byte("hello"), etag: `"x"`}
	hold := h.rec.holdEvents() // the fetch stays until its event settles: it may finish before the lookup
	snap, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	h.e.mu.Lock()
	f := h.e.fetches[snap.UniqueID]
	h.e.mu.Unlock()
	require.NotNil(t, f)
	close(hold)
	h.rec.wait(t)
	require.Eventually(t, func() bool { return f.ctx.Err() != nil }, 5*time.Second, 5*time.Millisecond)
}

// A cross-origin resume that gets nothing does not fail the record: its last try asks for the whole
// body. Either no response at all (a server refusing the preflight that Range and If-Range need), or
// a 206 whose body fails before its first byte (an encoded file: CORS hides its Content-Encoding,
// the range counted decoded bytes, and the browser cannot decode the slice).
func TestCrossOriginResumesThatGetNothingFallBackToTheWholeBody(t *testing.T) {
	lastModified := [2]string{"Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT"}
	for name, resume := range map[string]func(from int64) (*Response, Body, error){
		"refused preflight": func(int64) (*Response, Body, error) {
			return nil, nil, errors.New("TypeError: Failed to fetch")
		},
		"undecodable 206": func(from int64) (*Response, Body, error) {
			head := &Response{Status: 206, Type: "cors", Headers: [][2]string{lastModified, {"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}
			return head, &listBody{err: errors.New("TypeError: Decoding failed.")}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			body := pattern(100, 3)
			var ranges []int64
			var mu sync.Mutex
			head := &Response{Status: 200, Type: "cors", Headers: [][2]string{lastModified}}
			h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
				mu.Lock()
				ranges = append(ranges, from)
				n := len(ranges)
				mu.Unlock()
				switch {
				case n == 1: // the connection drops after 40 bytes
					return head, &listBody{chunks: [][]byte{body[:40]}, err: errors.New("TypeError: network error")}, nil
				case from > 0:
					return resume(from)
				}
				return head, &listBody{chunks: [][]byte{body}}, nil
			}))
			final := h.fetchOne(t, "https://b/x", body)
			assert.Equal(t, ResultSuccess, final.Result)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []int64{0, 30, 30, 0}, ranges, "two resumes (from the stored bytes, less the overlap) that got nothing, then the whole body")
		})
	}
}
