package server

import (
	"net/http"
	"strconv"
	"strings"
)

// statusBodySize is the length of /status/ bodies: big enough to be a real body, small to hash.
const statusBodySize = 1 << 10

// serveStatus answers /status/<code> with that status and a deterministic text body.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	code, ok := parseStatusCode(strings.TrimPrefix(r.URL.Path, "/status/"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	body := statusBody(code)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	setCORS(h)
	extraHeaders(h, r)
	if bodyAllowed(code) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead && len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// parseStatusCode accepts the codes a handler can meaningfully send (200–599).
func parseStatusCode(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 200 || n > 599 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// statusBody is "status <code>\n" repeated and cut to statusBodySize; empty when no body is allowed.
func statusBody(code int) []byte {
	if !bodyAllowed(code) {
		return nil
	}
	line := "status " + strconv.Itoa(code) + "\n"
	return []byte(strings.Repeat(line, statusBodySize/len(line)+1)[:statusBodySize])
}
