package core

import "strings"

// QueryOptions are the CacheQueryOptions of match() and matchAll().
type QueryOptions struct {
	IgnoreSearch bool
	IgnoreMethod bool
	IgnoreVary   bool
}

// requestMatches is the Service Workers spec's "request matches cached item" for a record.
func requestMatches(query *Request, stored *recordDoc, opts QueryOptions) bool {
	if !opts.IgnoreMethod && stored.Request.Method != "GET" {
		return false
	}
	if !urlsEqual(query.URL, stored.Request.URL, opts.IgnoreSearch) {
		return false
	}
	resp := stored.Response
	if resp == nil || opts.IgnoreVary {
		return true
	}
	vary := resp.Header("Vary")
	if vary == "" {
		return true
	}
	for _, name := range strings.Split(vary, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			return false
		}
		if name != "" && headerValue(query.Headers, name) != headerValue(stored.Request.Headers, name) {
			return false
		}
	}
	return true
}

func urlsEqual(a, b string, ignoreSearch bool) bool {
	a, b = stripFragment(a), stripFragment(b)
	if ignoreSearch {
		a, b = stripSearch(a), stripSearch(b)
	}
	return a == b
}

func stripSearch(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// headerValue combines the values of a header as Fetch does (", "-joined).
func headerValue(h [][2]string, name string) string {
	var vals []string
	for _, kv := range h {
		if equalFold(kv[0], name) {
			vals = append(vals, kv[1])
		}
	}
	return strings.Join(vals, ", ")
}
