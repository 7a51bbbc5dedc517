package core

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDownloadTotalStopsEveryRecordBeforeItIsExceeded(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.chunk = 1000
	h.net.res["https://a/big"] = &resource{status: 200, body: pattern(50000, 1), etag: `"b"`}
	h.net.res["https://a/slow"] = &resource{status: 200, body: pattern(100, 2), etag: `"s"`, gate: make(chan struct{})}
	snap, err := h.e.Fetch(context.Background(), "cap", []Request{get("https://a/big"), get("https://a/slow")}, nil,
		Options{DownloadTotal: 12345})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ResultFailure, final.Result)
	assert.Equal(t, ReasonDownloadTotalExceeded, final.FailureReason, "the first failure, not the aborted sibling")
	assert.EqualValues(t, 12000, final.Downloaded, "whole chunks up to the total, never past it")
	h.rec.mu.Lock()
	for _, u := range h.rec.updates {
		assert.LessOrEqual(t, u.Downloaded, uint64(12345))
	}
	h.rec.mu.Unlock()
	assert.Contains(t, h.rec.eventList(), "event:backgroundfetchfail")
	_ = snap
}

func TestDownloadTotalIsNotExceededWhenReached(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/x"] = &resource{status: 200, body: pattern(3000, 1), etag: `"x"`}
	_, err := h.e.Fetch(context.Background(), "exact", []Request{get("https://a/x")}, nil, Options{DownloadTotal: 3000})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result, "stored == downloadTotal is allowed")
}

func TestDownloadTotalLargerThanStorageIsQuotaExceeded(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.e.p.StorageAvailable = func(context.Context) (uint64, bool) { return 1 << 20, true }
	_, err := h.e.Fetch(context.Background(), "q", []Request{get("https://a/x")}, nil, Options{DownloadTotal: 1<<20 + 1})
	require.Error(t, err)
	assert.Equal(t, "QuotaExceededError", err.(*Error).Name)
	assert.Empty(t, h.store.docs, "nothing stored")
	assert.Empty(t, h.e.IDs())
	h.net.res["https://a/x"] = &resource{status: 200, body: []byte("x"), etag: `"x"`}
	_, err = h.e.Fetch(context.Background(), "q", []Request{get("https://a/x")}, nil, Options{DownloadTotal: 1 << 20})
	assert.NoError(t, err, "a total that fits is accepted")
}

// A write refused for quota fails the fetch with quota-exceeded, without a retry; also when the
// connection drops just after it (the drop's error hid it: an upload failed with fetch-error, a GET
// was fetched again).
func TestStorageQuotaErrorFailsWithQuotaExceeded(t *testing.T) {
	for _, c := range []struct {
		name, method string
		failAfter    int
	}{{"GET", "GET", 0}, {"GET dropped after", "GET", 1}, {"POST dropped after", "POST", 1}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			h.store.failPut = &Error{Name: "QuotaExceededError", Message: "full"}
			h.net.res["https://a/x"] = &resource{status: 200, body: pattern(140000, 1), etag: `"x"`, failAfter: c.failAfter}
			req := get("https://a/x")
			req.Method = c.method
			_, err := h.e.Fetch(context.Background(), "full", []Request{req}, nil, Options{})
			require.NoError(t, err)
			final := h.rec.wait(t)
			assert.Equal(t, ReasonQuotaExceeded, final.FailureReason)
			h.net.mu.Lock()
			defer h.net.mu.Unlock()
			assert.Len(t, h.net.log, 1, "a quota error is not retried")
		})
	}
}

func TestUploadedCountsBodiesOnceTheirResponseArrives(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/up"] = &resource{status: 200, body: []byte("ok"), etag: `"u"`, gate: make(chan struct{})}
	post := Request{URL: "https://a/up", Method: "POST", Mode: "cors", HasBody: true, BodySize: 17}
	snap, err := h.e.Fetch(context.Background(), "up", []Request{post, get("https://a/up")}, map[int]any{0: "body"}, Options{})
	require.NoError(t, err)
	assert.EqualValues(t, 17, snap.UploadTotal, "uploadTotal is known when fetch() resolves")
	assert.EqualValues(t, 0, snap.Uploaded)
	require.Eventually(t, func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		n := len(h.rec.updates)
		return n > 0 && h.rec.updates[n-1].Uploaded == 17 && h.rec.updates[n-1].Result == ""
	}, 5*time.Second, time.Millisecond, "an update reports the upload before the fetch ends")
	close(h.net.res["https://a/up"].gate)
	final := h.rec.wait(t)
	assert.EqualValues(t, 17, final.Uploaded)
}

// Requests beyond the bodies that may stream at once are sent (the browser has them ready for a
// free connection), but a large body waits for its turn to be read, and a small one needs none.
func TestLargeBodiesTakeTurnsWhileSmallOnesPass(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.e.cfg.MaxInFlight, h.e.cfg.MaxStreaming, h.e.cfg.WholeBody = 4, 1, 1000
	h.e.sched, h.e.large, h.e.streams = newScheduler(4), newScheduler(4), newScheduler(1)
	h.net.chunk = 10000
	gate := make(chan struct{})
	big1, big2, small := pattern(50000, 1), pattern(50000, 2), pattern(800, 3)
	h.net.res["https://a/big1"] = &resource{status: 200, body: big1, etag: `"1"`, gate: gate}
	h.net.res["https://a/big2"] = &resource{status: 200, body: big2, etag: `"2"`, gate: gate}
	later := make(chan struct{}) // the small response comes once a large body holds the turn
	h.net.res["https://a/small"] = &resource{status: 200, body: small, etag: `"s"`, headGate: later}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "turns", []Request{get("https://a/big1"), get("https://a/big2"), get("https://a/small")}, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { h.net.mu.Lock(); defer h.net.mu.Unlock(); return h.net.streaming == 1 },
		5*time.Second, time.Millisecond)
	close(later)
	require.Eventually(t, func() bool { return bytes.Equal(h.store.body(t, snap.UniqueID, 2), small) }, 5*time.Second, time.Millisecond,
		"the small body is stored while the large ones wait")
	h.net.mu.Lock()
	assert.Len(t, h.net.log, 3, "every request is in flight")
	h.net.mu.Unlock()
	close(gate)
	require.Eventually(t, func() bool { return slices.Contains(h.rec.eventList(), "event:backgroundfetchsuccess") },
		5*time.Second, time.Millisecond)
	assert.Equal(t, big1, h.store.body(t, snap.UniqueID, 0))
	assert.Equal(t, big2, h.store.body(t, snap.UniqueID, 1))
	close(hold)
	h.rec.wait(t)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Equal(t, 1, h.net.peakStreaming, "one large body read at a time")
}

// inFlightBound starts a fetch of n files of size bytes whose heads wait for a gate, and returns
// how many requests were sent at most while they waited. The first file has no gate: its response
// tells what the others are likely to be.
func inFlightBound(t *testing.T, size, n int) int {
	h := newHarness(t, nil, nil)
	h.e.cfg.WholeBody = 1000
	h.e.sched, h.e.large = newScheduler(6), newScheduler(2)
	later := make(chan struct{})
	reqs := []Request{get("https://a/0")}
	h.net.res["https://a/0"] = &resource{status: 200, body: pattern(size, 0), etag: `"0"`}
	for i := 1; i < n; i++ {
		u := "https://a/" + strconv.Itoa(i)
		h.net.res[u] = &resource{status: 200, body: pattern(size, byte(i)), etag: `"x"`, headGate: later}
		reqs = append(reqs, get(u))
	}
	sent := func() int { h.net.mu.Lock(); defer h.net.mu.Unlock(); return len(h.net.log) }
	_, err := h.e.Fetch(context.Background(), "bound", reqs, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sent() >= 3 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // time for requests beyond the bound to be sent, were they allowed
	peak := sent()
	close(later)
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, size*n, final.Downloaded)
	return peak
}

// Requests of a fetch whose bodies are small fill MaxInFlight; those of a fetch whose bodies are
// large, or not yet known, stay within MaxLargeInFlight (here 6 and 2).
func TestSmallBodiesGoBeyondTheLargeInFlightBound(t *testing.T) {
	assert.Equal(t, 7, inFlightBound(t, 800, 12), "the first, then 6 in flight")
	assert.Equal(t, 3, inFlightBound(t, 5000, 12), "the first, then 2 in flight")
}

// A body counts as small (no turn to read it) only when its declared length is what arrives.
func TestSmallBodies(t *testing.T) {
	e := &Engine{cfg: Config{WholeBody: 1000}}
	resp := func(typ string, headers ...[2]string) *Response { return &Response{Type: typ, Headers: headers} }
	length := func(n string) [2]string { return [2]string{"Content-Length", n} }
	assert.True(t, e.small(resp("basic", length("1000"))))
	assert.False(t, e.small(resp("basic", length("1001"))))
	assert.False(t, e.small(resp("basic")), "no declared length")
	assert.False(t, e.small(resp("basic", length("800"), [2]string{"Content-Encoding", "gzip"})), "encoded")
	assert.False(t, e.small(resp("cors", length("800"))), "a cross-origin response hides its encoding")
	assert.False(t, e.small(resp("basic", length("800"), [2]string{"Transfer-Encoding", "chunked"})), "chunked: the length is not the body's")
}
