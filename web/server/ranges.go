package server

import (
	"math"
	"net/http"
	"strings"
)

// rangeKind is the outcome of interpreting a Range header.
type rangeKind int

const (
	rangeIgnored       rangeKind = iota // absent, malformed, foreign unit or multiple ranges: send 200
	rangeSingle                         // one satisfiable range: send 206
	rangeUnsatisfiable                  // nothing overlaps the representation: send 416
)

// parseRange interprets a Range header for a representation of size bytes (RFC 9110 §14.2)
// and returns the selected half-open interval [start, end).
func parseRange(header string, size int64) (start, end int64, kind rangeKind) {
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return 0, 0, rangeIgnored
	}
	specs := 0
	satisfiable := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue // the grammar tolerates empty list elements
		}
		specs++
		s, e, valid, fits := parseSpec(spec, size)
		if !valid {
			return 0, 0, rangeIgnored // RFC 9110 lets a server ignore an invalid Range
		}
		if fits {
			if satisfiable == 0 {
				start, end = s, e
			}
			satisfiable++
		}
	}
	switch {
	case specs == 0:
		return 0, 0, rangeIgnored
	case satisfiable == 0:
		return 0, 0, rangeUnsatisfiable
	case specs > 1:
		return 0, 0, rangeIgnored // multipart/byteranges is not worth it; a full 200 is allowed
	}
	return start, end, rangeSingle
}

// parseSpec parses one range-spec ("a-b", "a-" or "-n"); valid reports syntax, fits satisfiability.
func parseSpec(spec string, size int64) (start, end int64, valid, fits bool) {
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false, false
	}
	if first == "" {
		n, ok := parseDigits(last)
		if !ok {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		return max(size-n, 0), size, true, true
	}
	a, ok := parseDigits(first)
	if !ok {
		return 0, 0, false, false
	}
	end = size
	if last != "" {
		b, ok := parseDigits(last)
		if !ok || b < a {
			return 0, 0, false, false
		}
		end = min(b, size-1) + 1
	}
	if a >= size {
		return 0, 0, true, false
	}
	return a, end, true, true
}

// parseDigits parses 1*DIGIT, saturating on overflow so huge positions stay meaningful.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for _, ch := range []byte(s) {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := int64(ch - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}

// ifRangeAllows reports whether If-Range still matches the content (RFC 9110 §13.1.5).
func ifRangeAllows(value string, c *Content) bool {
	value = strings.TrimSpace(value)
	switch {
	case value == "":
		return true
	case strings.HasPrefix(value, `"`):
		return value == c.ETag() // strong comparison
	case strings.HasPrefix(value, "W/"):
		return false // weak tags never match in If-Range
	}
	t, err := http.ParseTime(value)
	return err == nil && t.Equal(c.LastModified())
}
