package server

import "net/http"

// Unreachable makes requests for path (an exact URL path) fail as if the network were down: the
// connection closes with no response. Off again with on false.
func (s *Server) Unreachable(path string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unreachable == nil {
		s.unreachable = make(map[string]int)
	}
	if on {
		s.unreachable[path] = 0
	} else {
		delete(s.unreachable, path)
	}
}

// Refused reports how many requests for path Unreachable has refused since it was set.
func (s *Server) Refused(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreachable[path]
}

// refuseUnreachable closes r's connection, without a response, if its path is unreachable.
func (s *Server) refuseUnreachable(r *http.Request) {
	s.mu.Lock()
	n, ok := s.unreachable[r.URL.Path]
	if ok {
		s.unreachable[r.URL.Path] = n + 1
	}
	s.mu.Unlock()
	if ok {
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
}
