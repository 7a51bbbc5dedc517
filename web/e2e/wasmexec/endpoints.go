package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Endpoints the tests can fetch at BGFETCH_TEST_ORIGIN. All allow any origin
// (CORS, including preflights) and are not cacheable.
//
//	/bytes?n=<N>    N bytes, byte i = i % 251, ETag "bytes-N"; Range (206 +
//	                Content-Range, 416 when unsatisfiable), If-Range,
//	                If-None-Match and HEAD as in http.ServeContent; with
//	                &gzip=1, the whole body gzip-encoded, with its encoded
//	                Content-Length; with &cut=<K>, N declared but the
//	                connection closed after K bytes
//	/status/<code>  status <code> (200-599) with body "status <code>"
//	/echo           any method: JSON {method, url, headers, body}, header
//	                names lower-case and repeated values joined by ", "
func addEndpoints(mux *http.ServeMux) {
	mux.Handle("/bytes", cors(http.HandlerFunc(serveBytes)))
	mux.Handle("/status/{code}", cors(http.HandlerFunc(serveStatus)))
	mux.Handle("/echo", cors(http.HandlerFunc(serveEcho)))
}

// cors allows any origin to read the response and all its headers, and
// answers preflights for any method and header.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "*")
		noStore(w)
		if m := r.Header.Get("Access-Control-Request-Method"); r.Method == http.MethodOptions && m != "" {
			w.Header().Set("Access-Control-Allow-Methods", m)
			if hs := r.Header.Get("Access-Control-Request-Headers"); hs != "" {
				w.Header().Set("Access-Control-Allow-Headers", hs)
			}
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func serveBytes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 {
		http.Error(w, "bad or missing n", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.URL.Query().Has("gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = io.Copy(zw, &pattern{size: n})
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
		return
	}
	if cut, err := strconv.ParseInt(r.URL.Query().Get("cut"), 10, 64); err == nil && cut < n {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_, _ = io.CopyN(w, &pattern{size: n}, cut)
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	w.Header().Set("ETag", `"bytes-`+strconv.FormatInt(n, 10)+`"`)
	http.ServeContent(w, r, "", time.Time{}, &pattern{size: n})
}

// pattern is an io.ReadSeeker over size bytes where byte i is i % 251.
type pattern struct{ size, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	if rem := p.size - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func (p *pattern) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	default:
		return 0, errors.New("bad whence")
	}
	if offset < 0 {
		return 0, errors.New("negative position")
	}
	p.off = offset
	return offset, nil
}

func serveStatus(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		http.Error(w, "status code must be 200-599", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "status "+strconv.Itoa(code)) // dropped for 204 and 304
}

func serveEcho(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	headers := map[string]string{"host": r.Host}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method":  r.Method,
		"url":     r.URL.RequestURI(),
		"headers": headers,
		"body":    string(body),
	})
}

// discardLog silences the server's log of aborted connections and the like.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
