package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// serveDigest answers /sha256/<rest> with the hex SHA-256 of the full 200 body of /<rest>.
func (s *Server) serveDigest(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	target := strings.TrimPrefix(r.URL.Path, "/sha256")
	var key string
	var body func() []byte // small bodies only; files stream into the hash instead
	var c *Content
	switch {
	case strings.HasPrefix(target, "/files/"):
		size, ok := parseSize(strings.TrimPrefix(target, "/files/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		c = FileContent(target, r.URL.Query().Get("v"), size)
		key = "files\x00" + target + "\x00" + c.version
	case strings.HasPrefix(target, "/status/"):
		code, ok := parseStatusCode(strings.TrimPrefix(target, "/status/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		key = "status\x00" + strconv.Itoa(code)
		body = func() []byte { return statusBody(code) }
	default:
		http.NotFound(w, r)
		return
	}
	sum := s.digests.get(key, func() string {
		h := sha256.New()
		if c != nil {
			_, _ = c.writeRange(h, 0, c.size)
		} else {
			h.Write(body())
		}
		return hex.EncodeToString(h.Sum(nil))
	})
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	setCORS(hd)
	_, _ = w.Write([]byte(sum))
}

// digestCache memoises digests; hashing a multi-GiB file takes seconds.
type digestCache struct {
	mu      sync.Mutex
	entries map[string]*digestEntry
}

// digestEntry lets concurrent requests for one key share a single computation.
type digestEntry struct {
	once sync.Once
	hex  string
}

func (d *digestCache) get(key string, compute func() string) string {
	d.mu.Lock()
	if d.entries == nil {
		d.entries = make(map[string]*digestEntry)
	}
	e := d.entries[key]
	if e == nil {
		e = &digestEntry{}
		d.entries[key] = e
	}
	d.mu.Unlock()
	e.once.Do(func() { e.hex = compute() })
	return e.hex
}
