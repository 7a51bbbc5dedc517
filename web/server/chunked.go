package server

import (
	"fmt"
	"net/http"
	"net/http/httputil"
)

// serveChunked sends the whole content chunked while declaring Content-Length declared, as a
// misconfigured server or proxy does; HTTP clients must ignore the length (RFC 9112 §6.3).
// net/http refuses to send both headers, so the response is written on the hijacked connection.
func serveChunked(lw *loggingWriter, c *Content, size, declared int64) {
	conn, buf, err := http.NewResponseController(lw.ResponseWriter).Hijack()
	if err != nil {
		http.Error(lw, "length needs HTTP/1.1: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer conn.Close()
	h := lw.Header().Clone()
	h.Set("Content-Length", fmt.Sprint(declared))
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Connection", "close")
	// bufio's errors are sticky: the first one ends every later write, and Flush reports it.
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	lw.update(http.StatusOK, size) // counted before writing, as loggingWriter does
	body := httputil.NewChunkedWriter(buf)
	n, err := c.writeRange(body, 0, size)
	lw.update(http.StatusOK, n-size)
	if err == nil && body.Close() == nil {
		_, _ = buf.WriteString("\r\n")
		_ = buf.Flush()
	}
}
