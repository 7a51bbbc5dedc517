package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPermissionDenied: with the "background-fetch" permission denied, fetch() rejects with
// NotAllowedError (SPEC §3.1 step 6.1). Only Chromium lets a test deny that permission.
func TestPermissionDenied(t *testing.T) {
	for _, cfg := range configs {
		if cfg.name == "firefox-polyfill" || cfg.name == "webkit-polyfill" {
			continue // neither has a "background-fetch" permission to deny
		}
		t.Run(cfg.name, func(t *testing.T) {
			s := newSession(t, cfg)
			c, ok := s.b.(*browser.Chromium)
			require.True(t, ok)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, c.SetPermission(ctx, "background-fetch", "denied", s.origin))
			var got struct {
				State, Error string
				BadInput     []string
			}
			s.eval(&got, `(async () => {
				const state = (await navigator.permissions.query({ name: 'background-fetch' })).state;
				const reg = await navigator.serviceWorker.ready;
				const outcome = (p) => p.then(() => 'none', (e) => e.name);
				return { state, error: await outcome(reg.backgroundFetch.fetch('denied', '/files/1k')),
					badInput: await Promise.all([[], new Request('/files/1k', { mode: 'no-cors' }), 'wss://example.com/x']
						.map((r, i) => outcome(reg.backgroundFetch.fetch('denied-' + i, r)))) };
			})()`)
			require.Equal(t, "denied", got.State, "the override took")
			s.expect("permission-denied/NotAllowedError", got.Error == "NotAllowedError", "fetch() rejected with %s", got.Error)
			// Bad input is rejected before the permission is asked (SPEC §3.1 steps 3–4, and Chromium's order).
			assert.Equal(t, []string{"TypeError", "TypeError", "TypeError"}, got.BadInput, "an empty list, a no-cors request, a wss: URL")
		})
	}
}
