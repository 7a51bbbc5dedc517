package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPage = `<!doctype html><html><head><title>bgfetch e2e</title></head><body>ok</body></html>`

const testSW = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));
self.addEventListener('message', e => e.source.postMessage('pong:' + e.data));
`

// pingSW registers /sw.js (a no-op if already registered), waits until it is
// active and round-trips a message through it.
const pingSW = `(async () => {
  await navigator.serviceWorker.register('/sw.js');
  const reg = await navigator.serviceWorker.ready;
  return await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no pong from the service worker')), 10000);
    navigator.serviceWorker.onmessage = e => { clearTimeout(t); resolve(e.data); };
    reg.active.postMessage('ping');
  });
})()`

func newTestServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	})
	mux.HandleFunc("/sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(testSW))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func opCtx(t *testing.T) context.Context {
	return timeoutCtx(t, 20*time.Second)
}

// launchCtx bounds a launch: a first start on a fresh machine reads the whole
// browser from a cold disk, and the other suite's browsers may be starting too.
func launchCtx(t *testing.T) context.Context {
	return timeoutCtx(t, time.Minute)
}

func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// exercise runs the common scenario on any browser.
func exercise(t *testing.T, b Browser, url, wantBGF string) {
	ctx := opCtx(t)
	require.NoError(t, b.Navigate(ctx, url))

	var n int
	require.NoError(t, b.Eval(ctx, "1+1", &n))
	require.Equal(t, 2, n)

	var obj struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	require.NoError(t, b.Eval(ctx, `new Promise(r => setTimeout(() => r({a: 'x', n: 3}), 10))`, &obj))
	require.Equal(t, "x", obj.A)
	require.Equal(t, 3, obj.N)

	var title string
	require.NoError(t, b.Eval(ctx, "document.title // trailing comment", &title))
	require.Equal(t, "bgfetch e2e", title)

	v := any("sentinel")
	require.NoError(t, b.Eval(ctx, "undefined", &v))
	require.Nil(t, v)
	require.NoError(t, b.Eval(ctx, "void 0", nil))

	err := b.Eval(ctx, `(() => { throw new TypeError('boom-123') })()`, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "boom-123")
	require.Contains(t, err.Error(), "TypeError")
	var jsErr *JSError
	require.ErrorAs(t, err, &jsErr)
	require.Equal(t, "TypeError", jsErr.Name)
	require.Equal(t, "boom-123", jsErr.Message)

	err = b.Eval(ctx, `Promise.reject(new Error('rejected-456'))`, nil)
	require.ErrorContains(t, err, "rejected-456")

	err = b.Eval(ctx, `1 +`, nil) // a syntax error escapes the in-page try/catch
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "syntax")

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = b.Eval(short, `new Promise(() => {})`, nil)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, b.Eval(ctx, "1", nil), "browser usable after a timed-out eval")

	var pong string
	require.NoError(t, b.Eval(ctx, pingSW, &pong))
	require.Equal(t, "pong:ping", pong)

	var bgf string
	require.NoError(t, b.Eval(ctx, "typeof BackgroundFetchManager", &bgf))
	require.Equal(t, wantBGF, bgf, "%s: typeof BackgroundFetchManager", b.Name())

	// A page holding 200 MB more shows in the browser's memory (the bench's browser memory figure).
	before := b.Memory()
	require.Greater(t, before, int64(20<<20), "a running browser's processes hold tens of MB")
	require.NoError(t, b.Eval(ctx, `(window.__held = new Uint8Array(200e6).fill(1), 0)`, nil))
	assert.Greater(t, b.Memory()-before, int64(150e6))
	require.NoError(t, b.Eval(ctx, `(window.__held = null, 0)`, nil))
}

func findChromium(t *testing.T) {
	if _, err := FindChromium(); err != nil {
		t.Fatalf("Chromium is required for the e2e tests (the Makefile installs it): %v", err)
	}
}

func testChromium(t *testing.T, native bool, wantName, wantBGF string) {
	findChromium(t)
	srv := newTestServer(t)
	dir := filepath.Join(t.TempDir(), "profile")

	c, err := LaunchChromium(launchCtx(t), ChromiumOptions{Native: native, UserDataDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.Equal(t, wantName, c.Name())
	exercise(t, c, srv.URL+"/", wantBGF)

	ctx := opCtx(t)
	require.NoError(t, c.StopAllWorkers(ctx))
	var pong string
	require.NoError(t, c.Eval(ctx, pingSW, &pong), "worker restarts after StopAllWorkers")
	require.Equal(t, "pong:ping", pong)

	require.NoError(t, c.Kill())
	require.Error(t, c.Eval(ctx, "1", nil), "eval after Kill")
	require.NoError(t, c.Close())
	require.DirExists(t, dir, "a caller's UserDataDir is kept")

	c2, err := LaunchChromium(launchCtx(t), ChromiumOptions{Native: native, UserDataDir: dir})
	require.NoError(t, err, "relaunch with the profile of a killed browser")
	t.Cleanup(func() { _ = c2.Close() })
	require.NoError(t, c2.Navigate(ctx, srv.URL+"/"))
	var regs int
	require.NoError(t, c2.Eval(ctx, `navigator.serviceWorker.getRegistrations().then(r => r.length)`, &regs))
	require.Equal(t, 1, regs, "service worker registration survives the crash")
	require.NoError(t, c2.Eval(ctx, pingSW, &pong))
	require.Equal(t, "pong:ping", pong)
	require.NoError(t, c2.Close())
	require.DirExists(t, dir)
}

func TestChromium(t *testing.T) {
	testChromium(t, false, "chromium", "undefined")
}

func TestChromiumNative(t *testing.T) {
	testChromium(t, true, "chromium-native", "function")
}

func TestChromiumTempProfileRemoved(t *testing.T) {
	findChromium(t)
	c, err := LaunchChromium(launchCtx(t), ChromiumOptions{Native: true})
	require.NoError(t, err)
	dir := c.UserDataDir()
	require.FileExists(t, filepath.Join(dir, "Default", "Preferences"))
	require.NoError(t, c.Close())
	require.NoDirExists(t, dir)
}

func TestFirefox(t *testing.T) {
	if _, err := FindFirefox(); err != nil {
		t.Fatalf("Firefox is required for the e2e tests (the Makefile installs it): %v", err)
	}
	srv := newTestServer(t)
	f, err := LaunchFirefox(launchCtx(t), FirefoxOptions{Prefs: map[string]any{"bgfetch.test.pref": "x", "bgfetch.test.int": 7}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	require.Equal(t, "firefox", f.Name())
	userJS, err := os.ReadFile(filepath.Join(f.ProfileDir(), "user.js"))
	require.NoError(t, err)
	require.Contains(t, string(userJS), `user_pref("bgfetch.test.pref", "x");`)
	require.Contains(t, string(userJS), `user_pref("bgfetch.test.int", 7);`)

	exercise(t, f, srv.URL+"/", "undefined")

	dir := f.ProfileDir()
	require.NoError(t, f.Close())
	require.NoDirExists(t, dir)
	require.Error(t, f.Eval(opCtx(t), "1", nil), "eval after Close")
}

func TestPrefValue(t *testing.T) {
	for in, want := range map[any]string{true: "true", "a\"b": `"a\"b"`, 3: "3", 4.0: "4"} {
		got, err := prefValue(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := prefValue(1.5)
	require.Error(t, err)
	_, err = prefValue([]int{1})
	require.Error(t, err)
}

func TestWebKit(t *testing.T) {
	if _, err := FindWebKitDriver(); err != nil {
		t.Fatalf("WebKitWebDriver is required for the e2e tests (the Makefile installs it): %v", err)
	}
	srv := newTestServer(t)
	w, err := LaunchWebKit(launchCtx(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	require.Equal(t, "webkit", w.Name())

	exercise(t, w, srv.URL+"/", "undefined")

	require.NoError(t, w.Close())
	require.Error(t, w.Eval(opCtx(t), "1", nil), "eval after Close")
}
