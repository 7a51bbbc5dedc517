package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Servers that misbehave: a record ends with the resource's own body or fails; it never loops, and
// never reports a wrong body as success.

// A server that sends a body chunked under a Content-Length (a misconfigured proxy) has the length
// ignored, as the browser ignores it: the body ends where its chunks end.
func TestTheLengthOfAChunkedResponseIsNotTrusted(t *testing.T) {
	body := pattern(500, 3)
	var requests atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		requests.Add(1)
		return &Response{Status: 200, Type: "basic", Headers: [][2]string{{"Content-Length", "1000"},
			{"Transfer-Encoding", "chunked"}, {"ETag", `"e"`}}}, &listBody{chunks: [][]byte{body}}, nil
	}))
	final := h.fetchOne(t, "https://a/x", body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 1, requests.Load(), "no resume asks for bytes the length promised")
}

// A server whose file is shorter than its Content-Length (a stale length in a cache) drops every
// body at byte 50 and answers a resume with 416 for a 50-byte resource, so the record restarts from
// zero each time: the bytes fetched again are not progress, and the record fails rather than fetch
// the same bytes without end.
func TestRestartsFromZeroThatNeverGetFurtherFail(t *testing.T) {
	var requests atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
		if requests.Add(1) > 50 {
			return refusedFetch() // lets the record end when the engine would have gone on
		}
		if rangeStart > 0 {
			return &Response{Status: 416, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
				{"Content-Range", "bytes */50"}}}, &listBody{}, nil
		}
		return dropAfter(50, "basic")
	}))
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ReasonFetchError, final.FailureReason)
	assert.LessOrEqual(t, requests.Load(), int64(2*testConfig().MaxAttempts), "the same 50 bytes are not fetched without end")
}

// Two backends behind one URL, one honouring Range and one not, each cutting every connection at
// byte 300: bytes 300–600 come again and again, which is no progress, and the record fails.
func TestBackendsTakingTurnsDoNotLoop(t *testing.T) {
	const size, cut = 1000, 300
	var requests atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
		n := requests.Add(1)
		if n > 60 {
			return refusedFetch() // lets the record end when the engine would have gone on
		}
		cutShort := &listBody{chunks: [][]byte{make([]byte, cut)}, err: errors.New("TypeError: network error")}
		if n%2 == 1 && rangeStart > 0 {
			return &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
				{"Content-Range", fmt.Sprintf("bytes %d-%d/%d", rangeStart, size-1, size)}}}, cutShort, nil
		}
		return &Response{Status: 200, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
			{"Content-Length", fmt.Sprint(size)}}}, cutShort, nil
	}))
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, ReasonFetchError, h.rec.wait(t).FailureReason)
	assert.LessOrEqual(t, requests.Load(), int64(2*testConfig().MaxAttempts))
}

// A 206 whose body is longer than the range it names (the whole file, under a Content-Length that
// says so, or under a length not trusted) is not stored as the rest: the record restarts from zero.
func TestAPartialLongerThanItsRangeIsNotTheRest(t *testing.T) {
	full := pattern(100, 1)
	for _, typ := range []string{"basic", "cors"} {
		var requests atomic.Int64
		h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
			headers := [][2]string{{"ETag", `"e"`}, {"Content-Length", "100"}}
			switch {
			case requests.Add(1) == 1:
				return &Response{Status: 200, Type: typ, Headers: headers},
					&listBody{chunks: [][]byte{full[:50]}, err: errors.New("TypeError: network error")}, nil
			case rangeStart > 0: // the bytes asked again, then the whole file
				headers = append(headers, [2]string{"Content-Range", fmt.Sprintf("bytes %d-99/100", rangeStart)})
				return &Response{Status: 206, Type: typ, Headers: headers}, &listBody{chunks: [][]byte{full[rangeStart:50], full}}, nil
			}
			return &Response{Status: 200, Type: typ, Headers: headers}, &listBody{chunks: [][]byte{full}}, nil
		}))
		final := h.fetchOne(t, "https://a/x", full)
		assert.Equal(t, ResultSuccess, final.Result, typ)
		assert.EqualValues(t, 100, final.Downloaded, typ)
	}
}

// rangeFetch is a Fetcher that sees each request's own headers and the range the engine adds.
type rangeFetch func(req *Request, rangeStart int64) (*Response, Body, error)

func (f rangeFetch) Fetch(_ context.Context, req *Request, _ any, rangeStart, _ int64, _ string, _ int64) (*Response, Body, error) {
	return f(req, rangeStart)
}

// A request with a Range of its own is retried as it was made: resuming it would count the stored
// bytes from the file's start, not the range's (and send two ranges).
func TestARequestWithItsOwnRangeIsRetriedWhole(t *testing.T) {
	file := pattern(5000, 2)
	var requests, resumes atomic.Int64
	h := newFuncHarness(t, rangeFetch(func(req *Request, rangeStart int64) (*Response, Body, error) {
		if rangeStart > 0 {
			resumes.Add(1)
			return refusedFetch()
		}
		resp := &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
			{"Content-Range", "bytes 1000-4999/5000"}, {"Content-Length", "4000"}}}
		if requests.Add(1) == 1 {
			return resp, &listBody{chunks: [][]byte{file[1000:1500]}, err: errors.New("TypeError: network error")}, nil
		}
		return resp, &listBody{chunks: [][]byte{file[1000:]}}, nil
	}))
	req := get("https://a/x")
	req.Headers = [][2]string{{"Range", "bytes=1000-"}}
	hold := h.rec.holdEvents()
	s, err := h.e.Fetch(context.Background(), "x", []Request{req}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, s.UniqueID, file[1000:])
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Zero(t, resumes.Load(), "no Range of the engine's was added")
}

// A response without a body (to HEAD, or a 204) ends at once, whatever its Content-Length says.
func TestResponsesWithoutABodySucceed(t *testing.T) {
	for _, c := range []struct {
		method string
		status int
	}{{"HEAD", 200}, {"GET", 204}} {
		h := newFuncHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
			return &Response{Status: c.status, Type: "basic", Headers: [][2]string{{"ETag", `"e"`}, {"Content-Length", "100"}}}, &listBody{}, nil
		}))
		req := get("https://a/x")
		req.Method = c.method
		_, err := h.e.Fetch(context.Background(), "x", []Request{req}, nil, Options{})
		require.NoError(t, err)
		final := h.rec.wait(t)
		assert.Equal(t, ResultSuccess, final.Result, c.method, c.status)
		assert.Zero(t, final.Downloaded)
	}
}

// A 206 that names its last byte but not the total ("bytes 50-99/*") and ends early is resumed
// again, not taken as the whole body.
func TestAPartialOfUnknownTotalEndingEarlyIsResumed(t *testing.T) {
	full := pattern(100, 4)
	lm := [2]string{"Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT"}
	var ranges froms
	h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
		switch ranges.add(rangeStart) {
		case 1: // cross-origin: its length is not trusted, so the total stays unknown
			return &Response{Status: 200, Type: "cors", Headers: [][2]string{lm}},
				&listBody{chunks: [][]byte{full[:50]}, err: errors.New("TypeError: network error")}, nil
		case 2: // ends cleanly 40 bytes short of the range it names
			return &Response{Status: 206, Type: "cors", Headers: [][2]string{lm, {"Content-Range", fmt.Sprintf("bytes %d-99/*", rangeStart)}}},
				&listBody{chunks: [][]byte{full[rangeStart:60]}}, nil
		}
		return &Response{Status: 206, Type: "cors", Headers: [][2]string{lm, {"Content-Range", fmt.Sprintf("bytes %d-99/*", rangeStart)}}},
			&listBody{chunks: [][]byte{full[rangeStart:]}}, nil
	}))
	final := h.fetchOne(t, "https://cdn/x", full)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 100, final.Downloaded)
	assert.Equal(t, []int64{0, 50 - overlap, 60 - overlap}, ranges.list(), "resumed again from the byte it ended at")
}

// A 206 longer than its range whose connection then drops: the bytes past the declared length are
// not progress (they would raise the bar above the resource's length), so the attempts after the
// restart, each storing new bytes of the real body, go on to success.
func TestAnOverrunCutShortIsNoProgress(t *testing.T) {
	full := pattern(100, 9)
	drop := errors.New("TypeError: network error")
	var n atomic.Int64
	h := newFuncHarness(t, fetchFunc(func(rangeStart int64) (*Response, Body, error) {
		k := n.Add(1)
		et := [2]string{"ETag", `"e"`}
		switch {
		case k == 1:
			return &Response{Status: 200, Type: "cors", Headers: [][2]string{et}}, &listBody{chunks: [][]byte{full[:50]}, err: drop}, nil
		case k == 2: // the bytes asked again, then 80 for the 50 left, then the connection drops
			return &Response{Status: 206, Type: "cors", Headers: [][2]string{et, {"Content-Range", fmt.Sprintf("bytes %d-99/100", rangeStart)}}},
				&listBody{chunks: [][]byte{full[rangeStart:50], make([]byte, 80)}, err: drop}, nil
		case rangeStart == 0: // after the restart: a good 200 that drops at 90
			return &Response{Status: 200, Type: "cors", Headers: [][2]string{et}}, &listBody{chunks: [][]byte{full[:90]}, err: drop}, nil
		case rangeStart == 90-overlap: // a good 206 that drops after 5 new bytes
			return &Response{Status: 206, Type: "cors", Headers: [][2]string{et, {"Content-Range", fmt.Sprintf("bytes %d-99/100", rangeStart)}}},
				&listBody{chunks: [][]byte{full[rangeStart:95]}, err: drop}, nil
		}
		return &Response{Status: 206, Type: "cors", Headers: [][2]string{et, {"Content-Range", fmt.Sprintf("bytes %d-99/100", rangeStart)}}},
			&listBody{chunks: [][]byte{full[rangeStart:]}}, nil
	}))
	final := h.fetchOne(t, "https://cdn/x", full)
	assert.Equal(t, ResultSuccess, final.Result, "after %d requests", n.Load())
}

// A body begun again from zero (the server ignores Range) stores its new generation from segment
// 0, whose write drops the old one (Store.Put): storage holds the body once, not once per restart.
func TestARestartedBodyIsStoredOnce(t *testing.T) {
	h := newHarness(t, nil, nil)
	body := pattern(400<<10, 2)
	h.net.res["https://a/n"] = &resource{status: 200, body: body, etag: `"n"`, noRange: true, failAfter: 1}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "n", []Request{get("https://a/n")}, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, h.rec.dispatching, 5*time.Second, time.Millisecond)
	h.store.mu.Lock()
	total := 0
	for k, v := range h.store.segs {
		if strings.HasPrefix(k, snap.UniqueID+"/") {
			total += len(v)
		}
	}
	h.store.mu.Unlock()
	close(hold)
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, len(body), total, "segment bytes stored while the event runs")
}

// A resume asks again for the last stored bytes (Config.ResumeOverlap): a 206 that does not repeat
// them is not the rest of the stored body, whatever its head says, and the record fetches the whole
// body again rather than splice other bytes onto it.
func TestAResumeThatDoesNotRepeatTheStoredBytesRefetchesTheWholeBody(t *testing.T) {
	for name, c := range map[string]struct {
		typ     string
		head    [2]string
		stored  []byte // the first response's bytes, before the drop
		resumed []byte // what every resume's 206 slices
		whole   []byte // what a request without Range gets
	}{
		// CORS hides Content-Encoding, and the server slices its encoded file: a browser that passes
		// the slice on undecoded (WebKit) gives bytes of another file.
		"an encoded file's slice, passed on": {"cors", [2]string{"Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT"},
			pattern(100, 3), pattern(100, 9), pattern(100, 3)},
		// A new version under the same validator (a server that reuses ETags, say).
		"a new version under the stored ETag": {"basic", [2]string{"ETag", `"e"`},
			pattern(100, 3), pattern(100, 7), pattern(100, 7)},
	} {
		t.Run(name, func(t *testing.T) {
			var ranges froms
			h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
				n := ranges.add(from)
				switch {
				case n == 1: // the connection drops after 40 bytes
					return &Response{Status: 200, Type: c.typ, Headers: [][2]string{c.head}},
						&listBody{chunks: [][]byte{c.stored[:40]}, err: errors.New("TypeError: network error")}, nil
				case from > 0:
					return &Response{Status: 206, Type: c.typ, Headers: [][2]string{c.head,
						{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{c.resumed[from:]}}, nil
				}
				return &Response{Status: 200, Type: c.typ, Headers: [][2]string{c.head}}, &listBody{chunks: [][]byte{c.whole}}, nil
			}))
			final := h.fetchOne(t, "https://a/x", c.whole)
			assert.Equal(t, ResultSuccess, final.Result)
			assert.EqualValues(t, 100, final.Downloaded)
			assert.Equal(t, []int64{0, 30, 0}, ranges.list(), "a resume asking again for 10 stored bytes, then the whole body")
		})
	}
}

// A 206 that ends inside the bytes asked again is an attempt without progress: the next resumes.
func TestAResumeEndingInsideTheOverlapIsRetried(t *testing.T) {
	body := pattern(100, 3)
	var ranges froms
	h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
		head := &Response{Status: 200, Type: "basic", Headers: [][2]string{{"ETag", `"e"`}, {"Content-Length", "100"}}}
		switch ranges.add(from) {
		case 1:
			return head, &listBody{chunks: [][]byte{body[:40]}, err: errors.New("TypeError: network error")}, nil
		case 2: // five of the ten bytes asked again, then a clean end
			return &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
				{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{body[from : from+5]}}, nil
		case 3:
			return &Response{Status: 206, Type: "basic", Headers: [][2]string{{"ETag", `"e"`},
				{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{body[from:]}}, nil
		}
		return head, &listBody{chunks: [][]byte{body}}, nil
	}))
	final := h.fetchOne(t, "https://a/x", body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, []int64{0, 30, 30}, ranges.list())
}

// Stored bytes that cannot be read back leave the resume unchecked, as before the overlap: it still
// continues from them rather than fetch them again.
func TestAResumeWhoseTailCannotBeReadContinuesUnchecked(t *testing.T) {
	store := newMemStore()
	store.failTail = errors.New("NotReadableError")
	h := newHarness(t, store, nil)
	body := pattern(1000, 5)
	h.net.res["https://a/x"] = &resource{status: 200, body: body, etag: `"e"`, failAfter: 1}
	final := h.fetchOne(t, "https://a/x", body)
	assert.Equal(t, ResultSuccess, final.Result)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Equal(t, []string{`GET https://a/x 0 `, `GET https://a/x 500 "e"`}, h.net.log)
}

// The bytes a resume asks for again span segments when the last one is short (a drop right after a
// resume stored a few bytes): all of them are checked, not only the last segment's.
func TestAResumeChecksBytesBeyondAShortLastSegment(t *testing.T) {
	full, other := pattern(100, 3), pattern(100, 8)
	drop := errors.New("TypeError: network error")
	var ranges froms
	h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
		et := [2]string{"ETag", `"e"`}
		partial := func(b []byte) (*Response, Body, error) {
			return &Response{Status: 206, Type: "basic", Headers: [][2]string{et, {"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}},
				&listBody{chunks: [][]byte{b}}, nil
		}
		switch ranges.add(from) {
		case 1: // segment 0: 40 bytes
			return &Response{Status: 200, Type: "basic", Headers: [][2]string{et}}, &listBody{chunks: [][]byte{full[:40]}, err: drop}, nil
		case 2: // segment 1: 5 bytes
			return &Response{Status: 206, Type: "basic", Headers: [][2]string{et, {"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}},
				&listBody{chunks: [][]byte{full[from:45]}, err: drop}, nil
		case 3: // right in segment 1's 5 bytes, wrong in segment 0's
			return partial(append(append([]byte(nil), other[from:40]...), full[40:]...))
		}
		if from > 0 {
			return partial(full[from:])
		}
		return &Response{Status: 200, Type: "basic", Headers: [][2]string{et}}, &listBody{chunks: [][]byte{full}}, nil
	}))
	final := h.fetchOne(t, "https://a/x", full)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, []int64{0, 40 - overlap, 45 - overlap, 0}, ranges.list())
}

// Once a cross-origin resume has brought other bytes (an encoded file, sliced by its server), the
// record's later resumes ask for the whole body: every slice of that file would be refused again,
// each costing an attempt. A same-origin one, a new version, may be resumed again.
func TestACrossOriginResumeThatBroughtOtherBytesIsNotTriedAgain(t *testing.T) {
	for typ, want := range map[string][]int64{"cors": {0, 30, 0, 0}, "basic": {0, 30, 0, 60 - overlap}} {
		full := pattern(100, 3)
		drop := errors.New("TypeError: network error")
		var ranges froms
		h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
			head := &Response{Status: 200, Type: typ, Headers: [][2]string{{"ETag", `"e"`}}}
			switch ranges.add(from) {
			case 1:
				return head, &listBody{chunks: [][]byte{full[:40]}, err: drop}, nil
			case 3: // the whole body again, dropped after 60 bytes
				return head, &listBody{chunks: [][]byte{full[:60]}, err: drop}, nil
			}
			if from > 0 {
				body := full[from:]
				if from == 30 {
					body = pattern(70, 9) // other bytes
				}
				return &Response{Status: 206, Type: typ, Headers: [][2]string{{"ETag", `"e"`},
					{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{body}}, nil
			}
			return head, &listBody{chunks: [][]byte{full}}, nil
		}))
		final := h.fetchOne(t, "https://a/x", full)
		assert.Equal(t, ResultSuccess, final.Result, typ)
		assert.Equal(t, want, ranges.list(), typ)
	}
}

// Learning that a cross-origin file's slices are not its bytes costs no try: a record whose resume
// brings other bytes after two failed attempts still gets its whole-body try.
func TestAResumeThatBroughtOtherBytesUsesNoTry(t *testing.T) {
	full := pattern(100, 3)
	drop := errors.New("TypeError: network error")
	var ranges froms
	h := newFuncHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
		head := &Response{Status: 200, Type: "cors", Headers: [][2]string{{"ETag", `"e"`}}}
		switch ranges.add(from) {
		case 1:
			return head, &listBody{chunks: [][]byte{full[:40]}, err: drop}, nil
		case 2: // a 416 naming a shorter file: the body restarts (failure 1)
			return &Response{Status: 416, Type: "cors", Headers: [][2]string{{"ETag", `"e"`}, {"Content-Range", "bytes */35"}}}, &listBody{}, nil
		case 3: // the whole body drops before the most stored (failure 2)
			return head, &listBody{chunks: [][]byte{full[:20]}, err: drop}, nil
		case 4: // other bytes: the file's slices are not its bytes
			return &Response{Status: 206, Type: "cors", Headers: [][2]string{{"ETag", `"e"`},
				{"Content-Range", fmt.Sprintf("bytes %d-99/100", from)}}}, &listBody{chunks: [][]byte{pattern(int(100-from), 9)}}, nil
		}
		return head, &listBody{chunks: [][]byte{full}}, nil
	}))
	final := h.fetchOne(t, "https://a/x", full)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, []int64{0, 40 - overlap, 0, 20 - overlap, 0}, ranges.list())
}
