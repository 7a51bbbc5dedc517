package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func TestStaticMounts(t *testing.T) {
	dist, site := t.TempDir(), t.TempDir()
	writeFiles(t, dist, map[string]string{"sw.js": "// dist sw", "core.wasm": "\x00asm\x01\x00\x00\x00"})
	writeFiles(t, site, map[string]string{
		"index.html": "<!doctype html><title>demo</title>",
		"app.mjs":    "export {}",
		"dist/sw.js": "// shadowed by the /dist/ mount",
	})
	f := newFixture(t, server.Options{Static: []server.Mount{{Prefix: "/dist/", Dir: dist}, {Prefix: "/", Dir: site}}})

	resp, body := f.get("/dist/sw.js")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "// dist sw", string(body))
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "/", resp.Header.Get("Service-Worker-Allowed"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

	resp, body = f.get("/dist/core.wasm")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
	assert.Len(t, body, 8)
	assert.Empty(t, resp.Header.Get("Service-Worker-Allowed"))

	resp, body = f.get("/")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "<title>demo</title>")
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

	resp, _ = f.get("/app.mjs")
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, body = f.get("/dist/core.wasm", "Range", "bytes=0-3")
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "\x00asm", string(body))

	resp, _ = f.get("/missing.js")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestNoMountsIsNotFound(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, _ := f.get("/index.html")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestUnreachablePathGetsNoResponse(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.srv.Unreachable("/files/1k", true)
	_, err := f.client.Get(f.ts.URL + "/files/1k")
	require.Error(t, err, "the connection closes without a response")
	assert.Equal(t, 1, f.srv.Refused("/files/1k"))
	resp, _ := f.get("/files/2k")
	assert.Equal(t, 200, resp.StatusCode, "other paths are served")
	f.srv.Unreachable("/files/1k", false)
	resp, _ = f.get("/files/1k")
	assert.Equal(t, 200, resp.StatusCode)
}
