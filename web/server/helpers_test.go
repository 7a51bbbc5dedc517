package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

// fixture is a running test server plus a client with a safety timeout.
type fixture struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	client *http.Client
}

func newFixture(t *testing.T, opts server.Options) *fixture {
	t.Helper()
	srv := server.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &fixture{t: t, srv: srv, ts: ts, client: &http.Client{Timeout: 10 * time.Second}}
}

// do sends a request with the given headers and returns the response and its full body.
func (f *fixture) do(method, path string, headers ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, nil)
	require.NoError(f.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.client.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp, body
}

// get is do with GET.
func (f *fixture) get(path string, headers ...string) (*http.Response, []byte) {
	f.t.Helper()
	return f.do(http.MethodGet, path, headers...)
}

// expected returns bytes [start, end) of the content for path and version.
func expected(t *testing.T, path, version string, size, start, end int64) []byte {
	t.Helper()
	buf := make([]byte, end-start)
	n, err := server.FileContent(path, version, size).ReadAt(buf, start)
	if end < size {
		require.NoError(t, err)
	}
	require.Equal(t, len(buf), n)
	return buf
}
