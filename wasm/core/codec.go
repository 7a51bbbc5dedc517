package core

import (
	"strconv"

	"github.com/valyala/fastjson"
)

// The JSON of stored documents and of the values exchanged with the shim, field by field:
// encoding/json would add ~115 KB brotli to the wasm. Reading uses fastjson; writing, jsonWriter.

func getString(v *fastjson.Value, key string) string { return string(v.GetStringBytes(key)) }

func (w *jsonWriter) headers(hs [][2]string) {
	w.begin('[')
	for _, h := range hs {
		w.begin('[')
		w.str(h[0])
		w.str(h[1])
		w.end(']')
	}
	w.end(']')
}

// HeadersFromJSON reads [[name, value], …] as Headers' iterator gives them.
func HeadersFromJSON(v *fastjson.Value) [][2]string {
	var hs [][2]string
	for _, p := range v.GetArray() {
		hs = append(hs, [2]string{string(p.GetStringBytes("0")), string(p.GetStringBytes("1"))})
	}
	return hs
}

// json writes the request as the shim serialises it.
func (r *Request) json(w *jsonWriter) {
	w.begin('{')
	w.key("url").str(r.URL)
	w.key("method").str(r.Method)
	w.key("headers").headers(r.Headers)
	w.key("mode").str(r.Mode)
	w.key("credentials").str(r.Credentials)
	w.key("cache").str(r.Cache)
	w.key("redirect").str(r.Redirect)
	w.key("referrer").str(r.Referrer)
	w.key("referrerPolicy").str(r.ReferrerPolicy)
	w.key("integrity").str(r.Integrity)
	w.key("bodySize").int(r.BodySize)
	w.key("hasBody").bool(r.HasBody)
	w.end('}')
}

// AppendJSON appends the request as the shim serialises it.
func (r *Request) AppendJSON(b []byte) []byte {
	w := &jsonWriter{b: b}
	r.json(w)
	return w.b
}

// InitJSON writes the RequestInit (without signal and body) that fetches r, from byte rangeStart
// when it is above 0, to byte rangeEnd when that is above 0 (checked against ifRange when set).
func (r *Request) InitJSON(rangeStart, rangeEnd int64, ifRange string) []byte {
	cache, integrity, headers := r.Cache, r.Integrity, r.Headers
	if rangeStart > 0 {
		span := "bytes=" + strconv.FormatInt(rangeStart, 10) + "-"
		if rangeEnd > 0 {
			span += strconv.FormatInt(rangeEnd, 10)
		}
		headers = append(headers[:len(headers):len(headers)], [2]string{"Range", span})
		if ifRange != "" {
			headers = append(headers, [2]string{"If-Range", ifRange})
		}
		cache, integrity = "no-store", "" // a partial body can neither be cached nor checked whole
	}
	if cache == "only-if-cached" { // allowed only with mode same-origin; the default cache serves it
		cache = ""
	}
	mode := r.Mode
	if mode != "cors" && mode != "same-origin" { // navigate and no-cors cannot be asked of fetch() here
		mode = ""
	}
	redirect := r.Redirect
	if redirect == "manual" { // an opaque redirect has no body to store: Chromium follows it too
		redirect = "follow"
	}
	w := &jsonWriter{b: make([]byte, 0, 256)}
	w.begin('{')
	w.key("headers").headers(headers)
	for _, f := range [][2]string{{"method", r.Method}, {"credentials", r.Credentials}, {"redirect", redirect},
		{"mode", mode}, {"cache", cache}, {"integrity", integrity}, {"referrerPolicy", r.ReferrerPolicy}} {
		if f[1] != "" {
			w.key(f[0]).str(f[1])
		}
	}
	w.end('}')
	return w.b
}

// RequestFromJSON reads a request written by the shim or by Request.JSON.
func RequestFromJSON(v *fastjson.Value) Request {
	return Request{
		URL: getString(v, "url"), Method: getString(v, "method"), Headers: HeadersFromJSON(v.Get("headers")),
		Mode: getString(v, "mode"), Credentials: getString(v, "credentials"), Cache: getString(v, "cache"),
		Redirect: getString(v, "redirect"), Referrer: getString(v, "referrer"),
		ReferrerPolicy: getString(v, "referrerPolicy"), Integrity: getString(v, "integrity"),
		BodySize: v.GetInt64("bodySize"), HasBody: v.GetBool("hasBody"),
	}
}

// RequestsFromJSON reads an array of requests.
func RequestsFromJSON(v *fastjson.Value) []Request {
	var reqs []Request
	for _, r := range v.GetArray() {
		reqs = append(reqs, RequestFromJSON(r))
	}
	return reqs
}

func (w *jsonWriter) response(r *Response) {
	if r == nil {
		w.null()
		return
	}
	w.begin('{')
	w.key("status").int(int64(r.Status))
	w.key("statusText").str(r.StatusText)
	w.key("headers").headers(r.Headers)
	w.key("url").str(r.URL)
	w.key("redirected").bool(r.Redirected)
	w.key("type").str(r.Type)
	w.end('}')
}

func responseFromJSON(v *fastjson.Value) *Response {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	return &Response{
		Status: v.GetInt("status"), StatusText: getString(v, "statusText"), Headers: HeadersFromJSON(v.Get("headers")),
		URL: getString(v, "url"), Redirected: v.GetBool("redirected"), Type: getString(v, "type"),
	}
}

func (o *Options) json(w *jsonWriter) {
	w.begin('{')
	w.key("downloadTotal").uint(o.DownloadTotal)
	w.key("title").str(o.Title)
	w.key("icons").begin('[')
	for _, ic := range o.Icons {
		w.begin('{')
		w.key("src").str(ic.Src)
		for _, f := range [][2]string{{"sizes", ic.Sizes}, {"type", ic.Type}, {"label", ic.Label}} {
			if f[1] != "" {
				w.key(f[0]).str(f[1])
			}
		}
		w.end('}')
	}
	w.end(']')
	w.end('}')
}

// OptionsFromJSON reads BackgroundFetchOptions as the shim serialises them.
func OptionsFromJSON(v *fastjson.Value) Options {
	o := Options{DownloadTotal: v.GetUint64("downloadTotal"), Title: getString(v, "title")}
	for _, ic := range v.GetArray("icons") {
		o.Icons = append(o.Icons, Icon{Src: getString(ic, "src"), Sizes: getString(ic, "sizes"),
			Type: getString(ic, "type"), Label: getString(ic, "label")})
	}
	return o
}

// QueryOptionsFromJSON reads CacheQueryOptions.
func QueryOptionsFromJSON(v *fastjson.Value) QueryOptions {
	return QueryOptions{IgnoreSearch: v.GetBool("ignoreSearch"), IgnoreMethod: v.GetBool("ignoreMethod"),
		IgnoreVary: v.GetBool("ignoreVary")}
}

// AppendJSON appends the snapshot a registration copies.
func (s *Snapshot) AppendJSON(b []byte) []byte {
	w := &jsonWriter{b: b}
	w.begin('{')
	w.key("uniqueId").str(s.UniqueID)
	w.key("id").str(s.ID)
	w.key("uploadTotal").uint(s.UploadTotal)
	w.key("uploaded").uint(s.Uploaded)
	w.key("downloadTotal").uint(s.DownloadTotal)
	w.key("downloaded").uint(s.Downloaded)
	w.key("result").str(s.Result)
	w.key("failureReason").str(s.FailureReason)
	w.key("recordsAvailable").bool(s.RecordsAvailable)
	w.key("epoch").int(s.Epoch)
	w.key("seq").uint(s.Seq)
	w.end('}')
	return w.b
}

// AppendJSON appends the view a BackgroundFetchRecord is built from.
func (r *RecordView) AppendJSON(b []byte) []byte {
	w := &jsonWriter{b: b}
	w.begin('{')
	w.key("uniqueId").str(r.UniqueID)
	w.key("index").int(int64(r.Index))
	r.Request.json(w.key("request"))
	w.key("response").response(r.Response)
	w.key("generation").int(int64(r.Generation))
	w.key("segments").int(int64(r.Segments))
	w.key("result").str(r.Result)
	w.key("exposed").bool(r.Exposed)
	w.end('}')
	return w.b
}

// RecordViewFromJSON reads back a view the shim was given.
func RecordViewFromJSON(v *fastjson.Value) RecordView {
	return RecordView{
		UniqueID: getString(v, "uniqueId"), Index: v.GetInt("index"), Request: RequestFromJSON(v.Get("request")),
		Response: responseFromJSON(v.Get("response")), Generation: v.GetInt("generation"),
		Segments: v.GetInt("segments"), Result: getString(v, "result"), Exposed: v.GetBool("exposed"),
	}
}

// appendHead appends the record's "request" and "response" members.
func (r *recordDoc) appendHead(b []byte) []byte {
	w := &jsonWriter{b: b}
	r.Request.json(w.key("request"))
	if r.Response != nil {
		w.key("response").response(r.Response)
	}
	return w.b
}

func (d *fetchDoc) json(w *jsonWriter) {
	w.begin('{')
	w.key("version").int(int64(d.Version))
	w.key("uniqueId").str(d.UniqueID)
	w.key("id").str(d.ID)
	w.key("seq").int(d.Seq)
	d.Options.json(w.key("options"))
	w.key("uploadTotal").uint(d.UploadTotal)
	w.key("result").str(d.Result)
	w.key("failureReason").str(d.FailureReason)
	w.key("phase").str(d.Phase)
	if d.Redispatched > 0 {
		w.key("redispatched").int(int64(d.Redispatched))
	}
	w.key("records").int(int64(len(d.Records)))
	w.end('}')
}

// json writes the document of record index of fetch uniqueID.
func (r *recordDoc) json(w *jsonWriter, uniqueID string, index int) {
	w.begin('{')
	w.key("version").int(SchemaVersion)
	w.key("uniqueId").str(uniqueID)
	w.key("index").int(int64(index))
	w.comma()
	if r.head != nil && r.headFor == r.Response {
		w.b = append(w.b, r.head...)
	} else {
		w.b = r.appendHead(w.b)
	}
	w.sep = true
	w.key("length").int(r.Length)
	w.key("generation").int(int64(r.Generation))
	w.key("segments").int(int64(r.Segments))
	w.key("stored").int(r.Stored)
	w.key("result").str(r.Result)
	if r.Sent {
		w.key("sent").bool(true)
	}
	w.end('}')
}

func docFromJSON(v *fastjson.Value) *fetchDoc {
	return &fetchDoc{
		Version: v.GetInt("version"), UniqueID: getString(v, "uniqueId"), ID: getString(v, "id"),
		Seq: v.GetInt64("seq"), Options: OptionsFromJSON(v.Get("options")), UploadTotal: v.GetUint64("uploadTotal"),
		Result: getString(v, "result"), FailureReason: getString(v, "failureReason"), Phase: getString(v, "phase"),
		Redispatched: v.GetInt("redispatched"),
	}
}

func recordFromJSON(r *fastjson.Value) recordDoc {
	return recordDoc{
		Request: RequestFromJSON(r.Get("request")), Response: responseFromJSON(r.Get("response")),
		Length: r.GetInt64("length"), Generation: r.GetInt("generation"), Segments: r.GetInt("segments"),
		Stored: r.GetInt64("stored"), Result: getString(r, "result"), Sent: r.GetBool("sent"),
	}
}
