package server_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/bgfetch/bgfetch/web/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEchoReturnsTheRequestBody(t *testing.T) {
	f := newFixture(t, server.Options{})
	req, err := http.NewRequest(http.MethodPut, f.ts.URL+"/echo", bytes.NewReader([]byte("payload")))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var got bytes.Buffer
	_, _ = got.ReadFrom(resp.Body)
	assert.Equal(t, "payload", got.String())
	assert.Equal(t, "PUT", resp.Header.Get("X-Method"))
	assert.Equal(t, "text/plain", resp.Header.Get("X-Content-Type"))
}

func TestRedirectAndExtraHeaders(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.get("/redirect?to=/status/201")
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "followed")
	assert.Len(t, body, 1024)
	resp, _ = f.get("/redirect?to=//elsewhere/")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, _ = f.get("/files/1k?header=Vary:Accept&header=X-Secret:1&nocors")
	assert.Equal(t, "Accept", resp.Header.Get("Vary"))
	assert.Equal(t, "1", resp.Header.Get("X-Secret"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "nocors drops the CORS headers")
	resp, _ = f.get("/files/1k")
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestGzipServesTheSameContentEncoded(t *testing.T) {
	f := newFixture(t, server.Options{})
	req, err := http.NewRequest(http.MethodGet, f.ts.URL+"/files/100k?gzip", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip") // set by hand, so the client leaves the body encoded
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	body, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, expected(t, "/files/100k", "", 100<<10, 0, 100<<10), body)
	assert.NotEqual(t, int64(100<<10), resp.ContentLength, "the length on the wire is the encoded one")
}

func TestGzipRangesCountTheEncodedBytes(t *testing.T) {
	f := newFixture(t, server.Options{})
	get := func(rng string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, f.ts.URL+"/files/100k?gzip", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	whole, err := io.ReadAll(get("").Body)
	require.NoError(t, err)
	resp := get("bytes=100-")
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	assert.Equal(t, fmt.Sprintf("bytes 100-%d/%d", len(whole)-1, len(whole)), resp.Header.Get("Content-Range"))
	part, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, whole[100:], part, "a slice of the encoding, as a server storing the file encoded sends")
}
