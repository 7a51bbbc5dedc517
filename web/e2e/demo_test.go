package e2e

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"
	"github.com/stretchr/testify/require"
)

// TestDemo clicks through the demo that `make demo` serves, with the polyfill in Chromium.
func TestDemo(t *testing.T) {
	root := repoRoot(t)
	srv := httptest.NewServer(server.New(server.Options{Static: []server.Mount{
		{Prefix: "/dist/", Dir: filepath.Join(root, "dist")},
		{Prefix: "/", Dir: filepath.Join(root, "web", "site")},
	}}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := browser.LaunchChromium(ctx, browser.ChromiumOptions{})
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, b.Navigate(ctx, srv.URL+"/"))
	var impl string
	require.NoError(t, b.Eval(ctx, `navigator.serviceWorker.ready.then(() => document.getElementById('impl').textContent)`, &impl))
	require.Contains(t, impl, "bgfetch polyfill")
	require.NoError(t, b.Eval(ctx, `document.getElementById('missing').click()`, nil))

	var fetches, finished string
	require.Eventually(t, func() bool {
		_ = b.Eval(ctx, `document.getElementById('fetches').textContent`, &fetches)
		_ = b.Eval(ctx, `document.getElementById('finished').textContent`, &finished)
		return strings.Contains(fetches, "failed (bad-status)") && strings.Contains(finished, "/status/404 — 404")
	}, time.Minute, 200*time.Millisecond, "demo shows the failed fetch and its stored records: %q / %q", fetches, finished)
	require.Contains(t, finished, "/files/1k.bin — 200 — 1024 bytes")
}
