package server

import (
	"io"
	"net/http"
	"strings"
)

// maxEchoBody bounds what /echo reads, so a test cannot make the server buffer without end.
const maxEchoBody = 16 << 20

// serveEcho answers any method with the request body and its method and content type in headers.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setCORS(h)
	h.Set("Access-Control-Expose-Headers", "X-Method, X-Content-Type")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEchoBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Method", r.Method)
	h.Set("X-Content-Type", r.Header.Get("Content-Type"))
	_, _ = w.Write(body)
}

// serveRedirect answers /redirect?to=<path> with a 302 to that same-origin path.
func (s *Server) serveRedirect(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
		http.Error(w, "to must be a path", http.StatusBadRequest)
		return
	}
	setCORS(w.Header())
	http.Redirect(w, r, to, http.StatusFound)
}

// extraHeaders applies the query's header=Name:Value pairs and nocors, which drops the CORS headers.
func extraHeaders(h http.Header, r *http.Request) {
	q := r.URL.Query()
	for _, kv := range q["header"] {
		if name, value, ok := strings.Cut(kv, ":"); ok && name != "" {
			h.Add(name, value)
		}
	}
	if q.Has("nocors") {
		h.Del("Access-Control-Allow-Origin")
		h.Del("Access-Control-Expose-Headers")
	}
}
