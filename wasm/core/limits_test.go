package core

import (
	"context"
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

func TestStorageQuotaErrorFailsWithQuotaExceeded(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.store.failPut = &Error{Name: "QuotaExceededError", Message: "full"}
	h.net.res["https://a/x"] = &resource{status: 200, body: pattern(200000, 1), etag: `"x"`}
	_, err := h.e.Fetch(context.Background(), "full", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ReasonQuotaExceeded, final.FailureReason)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Len(t, h.net.log, 1, "a quota error is not retried")
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
