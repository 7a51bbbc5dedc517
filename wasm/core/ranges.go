package core

import (
	"strconv"
	"strings"
)

// What a response says of its body's length and version, and whether a resume may continue it.

// declaredLength is the body's length as it arrives, or -1 when unknown. Only a same-origin
// response shows whether Content-Length counts encoded bytes, and a chunked body's length is its
// chunks', whatever Content-Length says (RFC 9112 §6.3; browsers read on, and show both headers).
func declaredLength(resp *Response) int64 {
	if resp.Type != "basic" || resp.Header("Content-Encoding") != "" || resp.Header("Transfer-Encoding") != "" {
		return -1
	}
	n, err := strconv.ParseInt(resp.Header("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// canResume reports whether a Range request can safely continue the stored bytes.
// A request with a Range of its own is not: its stored bytes are counted from the range's start.
func canResume(r *recordDoc) bool {
	return r.retryable() && r.Response != nil && r.Response.Status != 206 && !r.Request.hasHeader("Range") &&
		r.Response.Header("Content-Encoding") == "" && validator(r.Response) != ""
}

// validator is the If-Range value for a stored response: a strong ETag, else Last-Modified.
func validator(r *Response) string {
	if et := r.Header("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return et
	}
	return r.Header("Last-Modified")
}

// partialValid checks a 206 against what is stored (SPEC §3.10) and returns the complete length.
func partialValid(r *recordDoc, resp *Response, rangeStart int64) (int64, bool) {
	first, last, length, ok := parseContentRange(resp.Header("Content-Range"))
	if !ok || first != rangeStart {
		return 0, false
	}
	if n := declaredLength(resp); n >= 0 && n != last-first+1 {
		return 0, false // its body is not the range it names
	}
	if r.Length >= 0 && length >= 0 && length != r.Length {
		return 0, false
	}
	if !sameValidators(r.Response, resp) {
		return 0, false
	}
	if length < 0 {
		length = r.Length
	}
	if length < 0 { // "bytes first-last/*": the server's body ends at last for now
		length = last + 1
	}
	return length, true
}

// sameResponse reports whether resp is the stored response again (same status and validators), so a
// reader holding the stored head may read resp's body as its own.
func sameResponse(stored, resp *Response) bool {
	return stored.Status == resp.Status && sameValidators(stored, resp)
}

// sameValidators reports whether resp names no other version of the resource than stored does.
func sameValidators(stored, resp *Response) bool {
	for _, name := range []string{"ETag", "Last-Modified"} {
		if old := stored.Header(name); old != "" && resp.Header(name) != "" && resp.Header(name) != old {
			return false
		}
	}
	return true
}

// rangeComplete reports whether a 416 to a request from rangeStart says the stored bytes are the
// whole body: "Content-Range: bytes */N" with N == rangeStart, of the same version.
func rangeComplete(r *recordDoc, resp *Response, rangeStart int64) bool {
	n, ok := strings.CutPrefix(strings.TrimSpace(resp.Header("Content-Range")), "bytes */")
	if !ok || n != strconv.FormatInt(rangeStart, 10) || !sameValidators(r.Response, resp) {
		return false
	}
	return r.Length < 0 || r.Length == rangeStart
}

// parseContentRange parses "bytes first-last/complete" (complete may be "*" → -1).
func parseContentRange(v string) (first, last, complete int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	span, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, 0, false
	}
	if total == "*" {
		return first, last, -1, true
	}
	complete, err := strconv.ParseInt(total, 10, 64)
	if err != nil || complete <= last {
		return 0, 0, 0, false
	}
	return first, last, complete, true
}
