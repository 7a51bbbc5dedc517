package server

import (
	"encoding/json"
	"net/http"
	"time"
)

// Entry records one /files/ request.
type Entry struct {
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	RawQuery string    `json:"rawQuery"`
	Range    string    `json:"range"`
	IfRange  string    `json:"ifRange"`
	Status   int       `json:"status"`
	Bytes    int64     `json:"bytes"` // body bytes actually written
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"` // zero while the request is being answered
}

// Log returns a copy of the request log; in-flight requests appear with their progress so far.
func (s *Server) Log() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.log))
	for i, e := range s.log {
		out[i] = *e
	}
	return out
}

// ResetLog clears the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// startEntry logs r on arrival and returns a writer that keeps the entry current.
func (s *Server) startEntry(w http.ResponseWriter, r *http.Request) *loggingWriter {
	e := &Entry{
		Start:    time.Now(),
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Range:    r.Header.Get("Range"),
		IfRange:  r.Header.Get("If-Range"),
	}
	s.mu.Lock()
	s.log = append(s.log, e)
	s.mu.Unlock()
	return &loggingWriter{ResponseWriter: w, s: s, entry: e}
}

// loggingWriter mirrors status and body size into a log entry.
type loggingWriter struct {
	http.ResponseWriter
	s     *Server
	entry *Entry
}

func (lw *loggingWriter) WriteHeader(status int) {
	lw.update(status, 0)
	lw.ResponseWriter.WriteHeader(status)
}

func (lw *loggingWriter) Write(p []byte) (int, error) {
	// Count before writing: a client that already holds the bytes must find them logged.
	lw.update(http.StatusOK, int64(len(p)))
	n, err := lw.ResponseWriter.Write(p)
	lw.update(http.StatusOK, int64(n-len(p)))
	return n, err
}

// finish records when the answer ended.
func (lw *loggingWriter) finish() {
	lw.s.mu.Lock()
	defer lw.s.mu.Unlock()
	lw.entry.End = time.Now()
}

// Unwrap lets http.ResponseController reach Flush on the underlying writer.
func (lw *loggingWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }

// update records the first status seen and adds delta body bytes.
func (lw *loggingWriter) update(status int, delta int64) {
	lw.s.mu.Lock()
	defer lw.s.mu.Unlock()
	if lw.entry.Status == 0 {
		lw.entry.Status = status
	}
	lw.entry.Bytes += delta
}

// serveLog answers GET /log with the log as JSON.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	body, err := json.Marshal(s.Log())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	setCORS(h)
	_, _ = w.Write(body)
}

// serveLogReset answers POST /log/reset.
func (s *Server) serveLogReset(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	s.ResetLog()
	setCORS(w.Header())
	w.WriteHeader(http.StatusNoContent)
}
