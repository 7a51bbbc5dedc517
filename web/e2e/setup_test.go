package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"
	"github.com/stretchr/testify/require"
)

// config is one way of running the scenarios: a browser, with the polyfill or native.
type config struct {
	name   string
	native bool
	launch func(ctx context.Context) (browser.Browser, error)
}

var configs = []config{
	{name: "chromium-polyfill", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchChromium(ctx, browser.ChromiumOptions{Native: false})
	}},
	{name: "firefox-polyfill", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchFirefox(ctx, browser.FirefoxOptions{SystemAccess: true}) // for SetOffline
	}},
	{name: "chromium-native", native: true, launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchChromium(ctx, browser.ChromiumOptions{Native: true})
	}},
	{name: "webkit-polyfill", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchWebKit(ctx)
	}},
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "dist", "bgfetch.wasm")); err != nil {
		t.Fatalf("dist/ is not built: run `make dist` first (%v)", err)
	}
	return root
}

// session is one browser on one page of a fresh test origin.
type session struct {
	t      *testing.T
	cfg    config
	b      browser.Browser
	srv    *httptest.Server
	files  *server.Server
	origin string
}

func newSession(t *testing.T, cfg config) *session {
	return startSession(t, t, cfg)
}

// startSession reports through t and ends the browser and server with owner, which may outlive t.
func startSession(t, owner *testing.T, cfg config) *session {
	root := repoRoot(t)
	files := server.New(server.Options{Static: []server.Mount{
		{Prefix: "/dist/", Dir: filepath.Join(root, "dist")},
		{Prefix: "/", Dir: filepath.Join(root, "testdata", "site")},
	}})
	srv := httptest.NewServer(files)
	owner.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := cfg.launch(ctx)
	require.NoError(t, err, "launching %s", cfg.name)
	owner.Cleanup(func() { _ = b.Close() })
	s := &session{t: t, cfg: cfg, b: b, srv: srv, files: files, origin: srv.URL}
	s.open()
	return s
}

// open loads the test page and registers the test service worker.
func (s *session) open() {
	s.t.Helper()
	url := s.origin + "/"
	if s.cfg.native {
		url += "?native=1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(s.t, s.b.Navigate(ctx, url))
	var setup struct {
		Native bool
		API    string
	}
	s.eval(&setup, `harness.setup()`)
	require.Equal(s.t, "function", setup.API, "BackgroundFetchManager is installed")
}

func (s *session) eval(out any, format string, args ...any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	expr := fmt.Sprintf(format, args...)
	require.NoError(s.t, s.b.Eval(ctx, expr, out), "eval %s", expr)
}

// sha256 asks the test server for the digest of what a URL serves.
func (s *session) sha256(path string) string {
	s.t.Helper()
	res, err := http.Get(s.origin + "/sha256" + path)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	require.Equal(s.t, 200, res.StatusCode, string(b))
	return string(b)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
