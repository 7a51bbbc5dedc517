package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

func TestFullGet(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.get("/files/100k.bin")

	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, expected(t, "/files/100k.bin", "1", 100<<10, 0, 100<<10), body)
	c := server.FileContent("/files/100k.bin", "1", 100<<10)
	h := resp.Header
	assert.Equal(t, "102400", h.Get("Content-Length"))
	assert.Equal(t, "application/octet-stream", h.Get("Content-Type"))
	assert.Equal(t, "bytes", h.Get("Accept-Ranges"))
	assert.Equal(t, c.ETag(), h.Get("ETag"))
	assert.Regexp(t, `^"[0-9a-f]{16}"$`, h.Get("ETag"))
	assert.Equal(t, c.LastModified().Format(http.TimeFormat), h.Get("Last-Modified"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "*", h.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "ETag, Last-Modified, Content-Range", h.Get("Access-Control-Expose-Headers"))
	assert.Empty(t, h.Get("Content-Range"))
}

func TestSizes(t *testing.T) {
	f := newFixture(t, server.Options{})
	for path, size := range map[string]int64{
		"/files/0": 0, "/files/1000": 1000, "/files/1k.bin": 1 << 10,
		"/files/32m.bin": 32 << 20, "/files/3g.iso": 3 << 30, "/files/2K": 2 << 10,
	} {
		resp, body := f.do(http.MethodHead, path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, strconv.FormatInt(size, 10), resp.Header.Get("Content-Length"), path)
		assert.Empty(t, body, path)
	}
	for _, path := range []string{"/files/", "/files/abc", "/files/1x", "/files/-1", "/files/+1", "/files/1/2", "/files/9999999g"} {
		resp, _ := f.get(path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}

func TestRangeForms(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path, size = "/files/200k.bin", 200 << 10
	for _, tc := range []struct {
		header     string
		start, end int64 // half-open
	}{
		{"bytes=0-99", 0, 100},
		{"bytes=100-", 100, size},
		{"bytes=-100", size - 100, size},
		{"bytes=65535-65536", 65535, 65537},
		{"bytes=5-5", 5, 6},
		{"bytes=1000-99999999", 1000, size},
		{"bytes=-999999999", 0, size},
		{"BYTES = 7-8", 7, 9},
	} {
		resp, body := f.get(path, "Range", tc.header)
		require.Equal(t, http.StatusPartialContent, resp.StatusCode, tc.header)
		assert.Equal(t, fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, size), resp.Header.Get("Content-Range"), tc.header)
		assert.Equal(t, strconv.FormatInt(tc.end-tc.start, 10), resp.Header.Get("Content-Length"), tc.header)
		assert.Equal(t, expected(t, path, "1", size, tc.start, tc.end), body, tc.header)
	}
}

func TestRangeIgnoredGivesFullBody(t *testing.T) {
	f := newFixture(t, server.Options{})
	full := expected(t, "/files/1k", "1", 1024, 0, 1024)
	for _, header := range []string{"bytes=0-1,5-9", "bytes=300000-,10-19", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=1"} {
		resp, body := f.get("/files/1k", "Range", header)
		assert.Equal(t, http.StatusOK, resp.StatusCode, header)
		assert.Equal(t, full, body, header)
	}
}

func TestRangeNotSatisfiable(t *testing.T) {
	f := newFixture(t, server.Options{})
	for _, tc := range []struct{ path, header string }{
		{"/files/1k", "bytes=1024-"},
		{"/files/1k", "bytes=5000-6000"},
		{"/files/1k", "bytes=-0"},
		{"/files/0", "bytes=0-"},
		{"/files/1k", "bytes=2000-,3000-4000"},
	} {
		resp, body := f.get(tc.path, "Range", tc.header)
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode, tc.header)
		size := map[string]string{"/files/1k": "1024", "/files/0": "0"}[tc.path]
		assert.Equal(t, "bytes */"+size, resp.Header.Get("Content-Range"), tc.header)
		assert.Empty(t, body)
	}
}

func TestIfRange(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path = "/files/4k"
	c := server.FileContent(path, "1", 4096)
	stale := server.FileContent(path, "2", 4096)
	for _, tc := range []struct {
		ifRange string
		status  int
	}{
		{c.ETag(), http.StatusPartialContent},
		{stale.ETag(), http.StatusOK},
		{"W/" + c.ETag(), http.StatusOK},
		{c.LastModified().Format(http.TimeFormat), http.StatusPartialContent},
		{c.LastModified().Add(time.Second).Format(http.TimeFormat), http.StatusOK},
		{"garbage", http.StatusOK},
	} {
		resp, body := f.get(path+"?v=1", "Range", "bytes=100-199", "If-Range", tc.ifRange)
		require.Equal(t, tc.status, resp.StatusCode, tc.ifRange)
		if tc.status == http.StatusOK {
			assert.Equal(t, expected(t, path, "1", 4096, 0, 4096), body, tc.ifRange)
		} else {
			assert.Equal(t, expected(t, path, "1", 4096, 100, 200), body, tc.ifRange)
		}
	}
}

func TestHead(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.do(http.MethodHead, "/files/1m.bin", "Range", "bytes=0-9")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "Range applies to GET only")
	assert.Equal(t, "1048576", resp.Header.Get("Content-Length"))
	assert.NotEmpty(t, resp.Header.Get("ETag"))
	assert.Empty(t, body)
	log := untimed(t, f.srv.Log())
	require.Len(t, log, 1)
	assert.Equal(t, server.Entry{Method: "HEAD", Path: "/files/1m.bin", Range: "bytes=0-9", Status: 200}, log[0])
}

func TestVersionChangesContentAndValidators(t *testing.T) {
	f := newFixture(t, server.Options{})
	r1, b1 := f.get("/files/1k")
	r1b, b1b := f.get("/files/1k?v=1")
	r2, b2 := f.get("/files/1k?v=2")
	assert.Equal(t, b1, b1b)
	assert.Equal(t, r1.Header.Get("ETag"), r1b.Header.Get("ETag"))
	assert.NotEqual(t, b1, b2)
	assert.NotEqual(t, r1.Header.Get("ETag"), r2.Header.Get("ETag"))
	assert.NotEqual(t, r1.Header.Get("Last-Modified"), r2.Header.Get("Last-Modified"))
	assert.Equal(t, expected(t, "/files/1k", "2", 1024, 0, 1024), b2)
}

func TestIgnoreRange(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.get("/files/2k?ignore-range=1", "Range", "bytes=10-20")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Content-Range"))
	assert.Equal(t, expected(t, "/files/2k", "1", 2048, 0, 2048), body)
}

func TestStatusFault(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.get("/files/1k?status=500", "Range", "bytes=0-9")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, expected(t, "/files/1k", "1", 1024, 0, 1024), body)

	resp, _ = f.get("/files/1k?status=99")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = f.get("/files/1k?rate=fast")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// getPartial performs a GET whose body is expected to fail, returning what arrived.
func getPartial(t *testing.T, client *http.Client, url string, headers ...string) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestDropFirstRequestOnly(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path = "/files/1m.bin?drop=300000"
	body, err := getPartial(t, f.client, f.ts.URL+path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, expected(t, "/files/1m.bin", "1", 1<<20, 0, 300000), body)

	resp, body := f.get(path)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, expected(t, "/files/1m.bin", "1", 1<<20, 0, 1<<20), body)

	log := f.srv.Log()
	require.Len(t, log, 2)
	assert.Equal(t, int64(300000), log[0].Bytes)
	assert.Equal(t, int64(1<<20), log[1].Bytes)
}

func TestDropOffsetIsAbsolute(t *testing.T) {
	f := newFixture(t, server.Options{})
	body, err := getPartial(t, f.client, f.ts.URL+"/files/1m?drop=200000", "Range", "bytes=100000-")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, expected(t, "/files/1m", "1", 1<<20, 100000, 200000), body)
}

func TestStallFirstRequestOnly(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path = "/files/256k?stall=100000"
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	start := time.Now()
	body, err := getPartial(t, impatient, f.ts.URL+path)
	var netErr interface{ Timeout() bool }
	require.True(t, errors.As(err, &netErr) && netErr.Timeout(), "want a timeout, got %v", err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, expected(t, "/files/256k", "1", 256<<10, 0, 100000), body)

	resp, body := f.get(path)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, body, 256<<10)

	// The stalled handler returns once the client has gone, so its entry settles.
	require.Eventually(t, func() bool { return len(f.srv.Log()) == 2 }, 2*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(100000), f.srv.Log()[0].Bytes)
}

func TestRateThrottles(t *testing.T) {
	f := newFixture(t, server.Options{})
	start := time.Now()
	resp, body := f.get("/files/1m?rate=4194304")
	elapsed := time.Since(start)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, body, 1<<20)
	assert.GreaterOrEqual(t, elapsed, 200*time.Millisecond)
	assert.Less(t, elapsed, 400*time.Millisecond)
}

func TestRateThrottlesRanges(t *testing.T) {
	f := newFixture(t, server.Options{})
	start := time.Now()
	resp, body := f.get("/files/4m?rate=102400", "Range", "bytes=1000-21479") // 20 KiB at 100 KiB/s
	elapsed := time.Since(start)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, expected(t, "/files/4m", "1", 4<<20, 1000, 21480), body)
	assert.InDelta(t, 200*time.Millisecond, elapsed, float64(40*time.Millisecond))
}

func TestStatusRoute(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.get("/status/404")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Len(t, body, 1024)
	assert.Equal(t, "status 404\nstatus 404\n", string(body[:22]))

	resp, _ = f.get("/status/abc")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body = f.get("/status/204")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, body)
}

func TestSHA256Route(t *testing.T) {
	f := newFixture(t, server.Options{})
	hexSum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	_, sum := f.get("/sha256/files/300k.bin?v=2")
	assert.Equal(t, hexSum(expected(t, "/files/300k.bin", "2", 300<<10, 0, 300<<10)), string(sum))
	_, again := f.get("/sha256/files/300k.bin?v=2&rate=5")
	assert.Equal(t, sum, again, "fault parameters do not change the full body")

	_, status := f.get("/status/500")
	_, sum = f.get("/sha256/status/500")
	assert.Equal(t, hexSum(status), string(sum))

	resp, _ := f.get("/sha256/nothing")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, _ := f.do(http.MethodPost, "/files/1k")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Allow"), "GET")

	resp, _ = f.do(http.MethodOptions, "/files/1k")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "If-Range")
}

func TestChangeServesTheNewVersionOnceTheFaultFired(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path = "/files/1m?drop=300000&change=2"
	first, err := getPartial(t, f.client, f.ts.URL+path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, expected(t, "/files/1m", "1", 1<<20, 0, 300000), first)

	// The resume asks for the old version: If-Range no longer matches, so the whole new body comes.
	oldETag := server.FileContent("/files/1m", "1", 1<<20).ETag()
	resp, body := f.get(path, "Range", "bytes=300000-", "If-Range", oldETag)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, expected(t, "/files/1m", "2", 1<<20, 0, 1<<20), body)
	assert.Equal(t, server.FileContent("/files/1m", "2", 1<<20).ETag(), resp.Header.Get("ETag"))

	log := f.srv.Log()
	require.Len(t, log, 2)
	assert.False(t, log[1].Start.Before(log[0].Start))
	assert.False(t, log[1].End.IsZero(), "a finished answer has its end time")
}

// stale: the new version keeps the old validators, so a resume naming them gets a slice of it.
func TestStaleChangeKeepsTheFirstVersionsValidators(t *testing.T) {
	f := newFixture(t, server.Options{})
	const path = "/files/1m?drop=300000&change=2&stale"
	_, err := getPartial(t, f.client, f.ts.URL+path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	old := server.FileContent("/files/1m", "1", 1<<20)
	resp, body := f.get(path, "Range", "bytes=300000-", "If-Range", old.ETag())
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, old.ETag(), resp.Header.Get("ETag"))
	assert.Equal(t, old.LastModified().Format(http.TimeFormat), resp.Header.Get("Last-Modified"))
	assert.Equal(t, expected(t, "/files/1m", "2", 1<<20, 300000, 1<<20), body, "the new version's bytes")
}

func TestChangeNeedsAFault(t *testing.T) {
	f := newFixture(t, server.Options{})
	for _, q := range []string{"?change=2", "?drop=10&stale"} {
		resp, _ := f.get("/files/1k" + q)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}
}

func TestNoPreflightRefusesOptions(t *testing.T) {
	f := newFixture(t, server.Options{})
	for query, want := range map[string]int{"": http.StatusNoContent, "?nopreflight": http.StatusForbidden} {
		req, err := http.NewRequest(http.MethodOptions, f.ts.URL+"/files/1k"+query, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, query)
	}
}
