package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxGzipSize bounds the files that may be served gzip-encoded (compressed in memory).
const maxGzipSize = 16 << 20

// maxFileSize bounds /files/ sizes so size arithmetic can never overflow.
const maxFileSize = 1 << 40

// serveFile answers /files/<size>[.ext] with deterministic content, ranges and faults.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	lw := s.startEntry(w, r)
	defer lw.finish()
	w = lw
	setCORS(w.Header())
	if r.Method == http.MethodOptions {
		if r.URL.Query().Has("nopreflight") { // as a CDN that allows simple CORS requests only
			w.WriteHeader(http.StatusForbidden)
			return
		}
		// Preflight for cross-origin fetches that send If-Range.
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
		w.Header().Set("Access-Control-Allow-Headers", "Range, If-Range")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !allowMethods(w, r, http.MethodGet, http.MethodHead, http.MethodOptions) {
		return
	}
	size, ok := parseSize(strings.TrimPrefix(r.URL.Path, "/files/"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := parseFaults(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := FileContent(r.URL.Path, s.version(r, f), size)
	named := c // the version the validators name
	if f.stale {
		named = FileContent(r.URL.Path, r.URL.Query().Get("v"), size)
	}

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", named.ETag())
	h.Set("Last-Modified", named.LastModified().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store")
	extraHeaders(h, r)

	var body ranged = c
	gzipped := r.URL.Query().Has("gzip") && f.status == 0 && r.Method == http.MethodGet && size <= maxGzipSize
	if gzipped { // content-coded, as a file stored encoded (S3, CDNs): ranges and faults count its encoded bytes
		enc, err := gzipContent(c, size)
		if err != nil {
			http.Error(w, "gzip failed", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Encoding", "gzip")
		body, size = enc, int64(len(enc))
	}
	status, start, end := http.StatusOK, int64(0), size
	switch {
	case f.status != 0:
		status = f.status
		if !bodyAllowed(status) {
			w.WriteHeader(status)
			return
		}
	default:
		h.Set("Accept-Ranges", "bytes")
		if r.Method != http.MethodGet || f.ignoreRange {
			break // RFC 9110 defines range handling for GET only
		}
		header := r.Header.Get("Range")
		if header == "" || !ifRangeAllows(r.Header.Get("If-Range"), named) {
			break
		}
		a, b, kind := parseRange(header, size)
		switch kind {
		case rangeSingle:
			status, start, end = http.StatusPartialContent, a, b
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b-1, size))
		case rangeUnsatisfiable:
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
	}
	if status == http.StatusOK && r.Method == http.MethodGet && f.length >= 0 && !gzipped {
		serveChunked(lw, c, size, f.length)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	s.writeBody(w, r, body, start, end, f)
}

// ranged is a body that can be written from any offset: the file's content, or its encoding.
type ranged interface {
	writeRange(w io.Writer, start, end int64) (int64, error)
}

// encoded is a body held in memory (a gzip encoding).
type encoded []byte

func (e encoded) writeRange(w io.Writer, start, end int64) (int64, error) {
	n, err := w.Write(e[start:end])
	return int64(n), err
}

// writeBody streams content[start:end) through the rate, drop and stall faults.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, c ranged, start, end int64, f faults) {
	rc := http.NewResponseController(w)
	var out io.Writer = w
	if f.rate > 0 {
		out = newThrottle(r.Context(), w, rc.Flush, f.rate)
	}
	cut, drop, faulted := s.cutOffset(r, f)
	if !faulted || cut >= end {
		_, _ = c.writeRange(out, start, end) // an error means the client went away
		return
	}
	if _, err := c.writeRange(out, start, max(cut, start)); err != nil {
		return
	}
	_ = rc.Flush() // the client must receive everything before the cut
	if drop {
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	<-r.Context().Done()
}

// parseSize parses "<digits>[k|m|g][.ext]" into a byte count (k/m/g are binary units).
func parseSize(name string) (int64, bool) {
	if strings.Contains(name, "/") {
		return 0, false
	}
	name, _, _ = strings.Cut(name, ".")
	shift := 0
	if name != "" {
		switch name[len(name)-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift != 0 {
			name = name[:len(name)-1]
		}
	}
	n, ok := parseDigits(name)
	if !ok || n > maxFileSize>>shift {
		return 0, false
	}
	return n << shift, true
}

// bodyAllowed reports whether HTTP permits a body with this status.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// gzipContent is the content gzip-encoded: the same bytes for the same content (no name, no time).
func gzipContent(c *Content, size int64) (encoded, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := c.writeRange(zw, 0, size); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
