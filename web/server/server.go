package server

import (
	"net/http"
	"strings"
	"sync"
)

// Options configures a Server.
type Options struct {
	Static []Mount // served in order; first prefix match wins
}

// Mount serves the files under Dir at URL paths starting with Prefix.
type Mount struct{ Prefix, Dir string }

// Server is the http.Handler described in the package documentation.
type Server struct {
	static  []staticMount
	digests digestCache

	mu      sync.Mutex
	log     []*Entry        // pointers so in-flight requests can update their entry
	faulted map[string]bool // URLs whose one-shot drop/stall already fired
	// paths that Unreachable cuts off, with the number of requests refused
	unreachable map[string]int
}

// New returns a Server for opts.
func New(opts Options) *Server {
	s := &Server{faulted: make(map[string]bool)}
	for _, m := range opts.Static {
		s.static = append(s.static, newStaticMount(m))
	}
	return s
}

// ServeHTTP routes to the API endpoints and falls back to static files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.refuseUnreachable(r)
	switch {
	case strings.HasPrefix(p, "/files/"):
		s.serveFile(w, r)
	case strings.HasPrefix(p, "/status/"):
		s.serveStatus(w, r)
	case strings.HasPrefix(p, "/sha256/"):
		s.serveDigest(w, r)
	case p == "/echo":
		s.serveEcho(w, r)
	case p == "/redirect":
		s.serveRedirect(w, r)
	case p == "/log":
		s.serveLog(w, r)
	case p == "/log/reset":
		s.serveLogReset(w, r)
	default:
		s.serveStatic(w, r)
	}
}

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// setCORS lets pages on other origins (e.g. a dev server) read API responses.
func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag, Last-Modified, Content-Range")
}
