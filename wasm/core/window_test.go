package core

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// windows parses the bounded ranges ("GET url first-last etag") of log.
func windows(t *testing.T, log []string) [][2]int64 {
	t.Helper()
	var out [][2]int64
	for _, l := range log {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 3, l)
		a, b, ok := strings.Cut(f[2], "-")
		if !ok {
			continue // the first request, or a resume
		}
		require.Len(t, f, 4, l)
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		require.NoError(t, err1)
		require.NoError(t, err2)
		assert.Equal(t, `"v"`, f[3], "a window is asked for with If-Range: %s", l)
		out = append(out, [2]int64{first, last})
	}
	return out
}

// contiguous checks that windows follow each other from first to the body's last byte.
func contiguous(t *testing.T, got [][2]int64, first, size int64) {
	t.Helper()
	require.NotEmpty(t, got)
	next := first
	for k, w := range got {
		assert.Equal(t, next, w[0], "window %d starts after the one before", k)
		assert.LessOrEqual(t, w[1]-w[0]+1, int64(windowSize), "window %d", k)
		next = w[1] + 1
	}
	assert.Equal(t, size, next, "the last window ends the body")
}

// A body larger than a window, of a same-origin resource that takes ranges, is read from its
// response for a window, cut at the next chunk, and asked for a window at a time after that.
func TestALargeBodyIsFetchedAWindowAtATime(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	body := pattern(4500, 3)
	h.net.res["https://a/big"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true}
	s := h.fetchOne(t, "https://a/big", body)
	assert.Equal(t, ResultSuccess, s.Result)
	assert.Equal(t, "GET https://a/big 0 ", h.net.log[0])
	contiguous(t, windows(t, h.net.log), 1200, int64(len(body))) // 4 chunks of 300 pass the first 1,000 bytes
	assert.Len(t, h.net.log, 5)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Equal(t, 1, h.net.cuts, "the first response was cancelled at the cut, the windows read to their end")
}

// Windows need what makes each one checkable: a strong ETag (a window has no stored bytes to ask
// for again), and no integrity metadata (the browser checks a body whole).
func TestABodyWithoutAStrongETagOrWithIntegrityIsReadInOnePiece(t *testing.T) {
	for name, c := range map[string]struct {
		etag      string
		integrity string
	}{"weak ETag": {`W/"v"`, ""}, "integrity": {`"v"`, "sha256-x"}} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
			body := pattern(4500, 13)
			h.net.res["https://a/x"] = &resource{status: 200, body: body, etag: c.etag, ranges: true,
				extra: [][2]string{{"Last-Modified", "Mon, 23 Nov 2026 08:00:00 GMT"}}} // resumable all the same
			hold := h.rec.holdEvents()
			req := get("https://a/x")
			req.Integrity = c.integrity
			s, err := h.e.Fetch(context.Background(), "x", []Request{req}, nil, Options{})
			require.NoError(t, err)
			h.waitWithBody(t, hold, s.UniqueID, body)
			assert.Len(t, h.net.log, 1)
		})
	}
}

// A window's 206 must name the next bytes of the same version: the stored response's ETag and
// complete length, and the status. Any other answer, or none, ends the windows: the record resumes
// in one piece (with the resume's own checks) and stores the body.
func TestAWindowOfAnotherVersionOrNoneEndsTheWindows(t *testing.T) {
	for name, r := range map[string]*resource{
		"no ETag":    {windowHead: func(r *Response) { r.Headers = slicesDelete(r.Headers, "ETag") }},
		"other ETag": {windowHead: func(r *Response) { r.Headers = append(slicesDelete(r.Headers, "ETag"), [2]string{"ETag", `"w"`}) }},
		"other length": {windowHead: func(r *Response) {
			r.Headers = append(slicesDelete(r.Headers, "Content-Range"), [2]string{"Content-Range", "bytes 1200-2199/9999"})
		}},
		"200":     {windowHead: func(r *Response) { r.Status = 200 }},
		"refused": {refuse206: 1},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
			body := pattern(4500, 14)
			r.status, r.body, r.etag, r.ranges = 200, body, `"v"`, true
			h.net.res["https://a/x"] = r
			s := h.fetchOne(t, "https://a/x", body)
			assert.Equal(t, ResultSuccess, s.Result)
			require.Len(t, h.net.log, 3, "the first response, the window, the resume")
			assert.Equal(t, `GET https://a/x 1200-2199 "v"`, h.net.log[1])
			assert.Equal(t, fmt.Sprintf(`GET https://a/x %d "v"`, 1200-overlap), h.net.log[2])
		})
	}
}

// slicesDelete returns headers without name.
func slicesDelete(headers [][2]string, name string) [][2]string {
	var out [][2]string
	for _, h := range headers {
		if h[0] != name {
			out = append(out, h)
		}
	}
	return out
}

// Without Accept-Ranges, or within one window, a body is read in one piece.
func TestABodyIsReadInOnePieceWithoutRangesOrWithinAWindow(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	body := pattern(4500, 4)
	h.net.res["https://a/plain"] = &resource{status: 200, body: body, etag: `"v"`}
	h.fetchOne(t, "https://a/plain", body)
	assert.Equal(t, []string{"GET https://a/plain 0 "}, h.net.log)

	h = newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	small := pattern(windowSize, 5)
	h.net.res["https://a/small"] = &resource{status: 200, body: small, etag: `"v"`, ranges: true}
	h.fetchOne(t, "https://a/small", small)
	assert.Equal(t, []string{"GET https://a/small 0 "}, h.net.log)
}

// A window that brings other bytes than asked for (here the whole body: the server ignored the
// range it said it takes) ends the windows: the record resumes in one piece and stores the body.
func TestAWindowAnsweredWithTheWholeBodyEndsTheWindows(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	body := pattern(4500, 6)
	h.net.res["https://a/liar"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true, whole: 1}
	s := h.fetchOne(t, "https://a/liar", body)
	assert.Equal(t, ResultSuccess, s.Result)
	require.Len(t, h.net.log, 3)
	assert.Equal(t, `GET https://a/liar 1200-2199 "v"`, h.net.log[1])
	assert.Equal(t, fmt.Sprintf(`GET https://a/liar %d "v"`, 1200-overlap), h.net.log[2],
		"the resume after it asks for the rest in one piece")
}

// A window whose 206 starts elsewhere than asked is not stored as the next bytes.
func TestAWindowOfOtherBytesIsNotStored(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	body := pattern(4500, 8)
	h.net.res["https://a/skew"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true, skew: 7}
	s := h.fetchOne(t, "https://a/skew", body)
	assert.Equal(t, ResultSuccess, s.Result)
	require.Len(t, h.net.log, 3)
	assert.Equal(t, fmt.Sprintf(`GET https://a/skew %d "v"`, 1200-overlap), h.net.log[2])
}

// A window whose body runs past the range it names is not stored beyond it: the rest is resumed.
func TestAWindowLongerThanItsRangeIsNotStoredPastIt(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	body := pattern(4500, 12)
	h.net.res["https://a/long"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true, long: 50}
	s := h.fetchOne(t, "https://a/long", body)
	assert.Equal(t, ResultSuccess, s.Result)
	assert.Equal(t, `GET https://a/long 1200-2199 "v"`, h.net.log[1])
	assert.Contains(t, h.net.log, fmt.Sprintf(`GET https://a/long %d "v"`, 2100-overlap),
		"resumed after the window's last whole chunk within its range")
	assert.NotContains(t, h.net.log[1:], "GET https://a/long 0 ", "not restarted from zero")
	resume := slices.Index(h.net.log, fmt.Sprintf(`GET https://a/long %d "v"`, 2100-overlap))
	require.Positive(t, resume)
	assert.Empty(t, windows(t, h.net.log[resume:]), "no windows after the resume")
}

// A window that breaks is resumed like any body: the resume asks for the rest, is cut after a
// window, and windows follow it.
func TestABrokenWindowIsResumed(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 100})
	body := pattern(4500, 7)
	// The first request is cut before its half; the second, the first window, breaks after its half.
	h.net.res["https://a/flaky"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true, failAfter: 2}
	s := h.fetchOne(t, "https://a/flaky", body)
	assert.Equal(t, ResultSuccess, s.Result)
	assert.Equal(t, `GET https://a/flaky 1000-1999 "v"`, h.net.log[1])
	// The window broke after half its bytes, all of them stored (the next one may have been asked for).
	resume := slices.Index(h.net.log, fmt.Sprintf(`GET https://a/flaky %d "v"`, 1500-overlap))
	require.Positive(t, resume)
	// Cut past 2,499, at a chunk: the resume's first chunk lost its 10 bytes asked again.
	contiguous(t, windows(t, h.net.log[resume:]), 2590, int64(len(body)))
}

// A window the browser holds back behind other downloads' connections is no stall while bytes
// arrive for them, as a wait for a head is not.
func TestAWindowQueuedBehindOtherDownloadsIsNoStall(t *testing.T) {
	h := newHarness(t, nil, &fakeNet{res: map[string]*resource{}, chunk: 300})
	h.e.cfg.StallTimeout = 100 * time.Millisecond
	body, busy := pattern(4500, 10), pattern(40*300, 11)
	queued, gate := make(chan struct{}), make(chan struct{})
	h.net.res["https://a/big"] = &resource{status: 200, body: body, etag: `"v"`, ranges: true, windowGate: queued}
	h.net.res["https://a/busy"] = &resource{status: 200, body: busy, etag: `"b"`, gate: gate}
	go func() {
		for range 40 { // a chunk every 10 ms for 400 ms, while the window waits
			time.Sleep(10 * time.Millisecond)
			gate <- struct{}{}
		}
		close(gate)
		close(queued)
	}()
	hold := h.rec.holdEvents()
	s, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/big"), get("https://a/busy")}, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { // while the window waits, not only once it came
		h.net.mu.Lock()
		defer h.net.mu.Unlock()
		return h.net.cuts == 1
	}, 300*time.Millisecond, 5*time.Millisecond, "the first response is cancelled at the cut")
	final := h.waitWithBody(t, hold, s.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	for _, l := range h.net.log {
		assert.False(t, strings.HasSuffix(l, ` 1190 "v"`), "no resume after a stall: %v", h.net.log)
	}
	contiguous(t, windows(t, h.net.log), 1200, int64(len(body)))
}
