package server

import (
	"net/http"
	"path"
	"strings"
)

// staticMount is a Mount bound to its file server.
type staticMount struct {
	prefix  string
	handler http.Handler
}

func newStaticMount(m Mount) staticMount {
	fs := http.FileServer(http.Dir(m.Dir))
	// Keep the leading slash of the remainder: "/dist/x.js" under "/dist/" becomes "/x.js".
	return staticMount{prefix: m.Prefix, handler: http.StripPrefix(strings.TrimSuffix(m.Prefix, "/"), fs)}
}

// serveStatic serves from the first mount whose prefix matches.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	for _, m := range s.static {
		if !strings.HasPrefix(r.URL.Path, m.prefix) {
			continue
		}
		h := w.Header()
		// Revalidate every time so a rebuilt bundle is picked up without a hard reload.
		h.Set("Cache-Control", "no-cache")
		switch path.Ext(r.URL.Path) {
		case ".js", ".mjs":
			// Set explicitly: system mime tables may say application/javascript or text/plain.
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			// Lets a worker script under /dist/ claim the whole origin as its scope.
			h.Set("Service-Worker-Allowed", "/")
		case ".wasm":
			// WebAssembly.instantiateStreaming insists on exactly this type.
			h.Set("Content-Type", "application/wasm")
		}
		m.handler.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}
