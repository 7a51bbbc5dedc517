package core

import (
	"strconv"

	"github.com/valyala/fastjson"
)

// The JSON of stored documents and of the values exchanged with the shim, written field by field:
// encoding/json would add ~115 KB brotli to the wasm (fastjson, without reflection, ~18 KB).

func str(a *fastjson.Arena, s string) *fastjson.Value { return a.NewString(s) }

func num(a *fastjson.Arena, n int64) *fastjson.Value {
	return a.NewNumberString(strconv.FormatInt(n, 10))
}

func unum(a *fastjson.Arena, n uint64) *fastjson.Value {
	return a.NewNumberString(strconv.FormatUint(n, 10))
}

func boolean(a *fastjson.Arena, b bool) *fastjson.Value {
	if b {
		return a.NewTrue()
	}
	return a.NewFalse()
}

func getString(v *fastjson.Value, key string) string { return string(v.GetStringBytes(key)) }

func headersJSON(a *fastjson.Arena, hs [][2]string) *fastjson.Value {
	arr := a.NewArray()
	for i, h := range hs {
		pair := a.NewArray()
		pair.SetArrayItem(0, str(a, h[0]))
		pair.SetArrayItem(1, str(a, h[1]))
		arr.SetArrayItem(i, pair)
	}
	return arr
}

// HeadersFromJSON reads [[name, value], …] as Headers' iterator gives them.
func HeadersFromJSON(v *fastjson.Value) [][2]string {
	var hs [][2]string
	for _, p := range v.GetArray() {
		hs = append(hs, [2]string{string(p.GetStringBytes("0")), string(p.GetStringBytes("1"))})
	}
	return hs
}

// JSON writes the request as the shim serialises it.
func (r *Request) JSON(a *fastjson.Arena) *fastjson.Value {
	o := a.NewObject()
	o.Set("url", str(a, r.URL))
	o.Set("method", str(a, r.Method))
	o.Set("headers", headersJSON(a, r.Headers))
	o.Set("mode", str(a, r.Mode))
	o.Set("credentials", str(a, r.Credentials))
	o.Set("cache", str(a, r.Cache))
	o.Set("redirect", str(a, r.Redirect))
	o.Set("referrer", str(a, r.Referrer))
	o.Set("referrerPolicy", str(a, r.ReferrerPolicy))
	o.Set("integrity", str(a, r.Integrity))
	o.Set("bodySize", num(a, r.BodySize))
	o.Set("hasBody", boolean(a, r.HasBody))
	return o
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

func responseJSON(a *fastjson.Arena, r *Response) *fastjson.Value {
	if r == nil {
		return a.NewNull()
	}
	o := a.NewObject()
	o.Set("status", num(a, int64(r.Status)))
	o.Set("statusText", str(a, r.StatusText))
	o.Set("headers", headersJSON(a, r.Headers))
	o.Set("url", str(a, r.URL))
	o.Set("redirected", boolean(a, r.Redirected))
	o.Set("type", str(a, r.Type))
	return o
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

func (o *Options) json(a *fastjson.Arena) *fastjson.Value {
	obj := a.NewObject()
	obj.Set("downloadTotal", unum(a, o.DownloadTotal))
	obj.Set("title", str(a, o.Title))
	icons := a.NewArray()
	for i, ic := range o.Icons {
		io := a.NewObject()
		io.Set("src", str(a, ic.Src))
		for _, f := range [][2]string{{"sizes", ic.Sizes}, {"type", ic.Type}, {"label", ic.Label}} {
			if f[1] != "" {
				io.Set(f[0], str(a, f[1]))
			}
		}
		icons.SetArrayItem(i, io)
	}
	obj.Set("icons", icons)
	return obj
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

// JSON writes the snapshot a registration copies.
func (s *Snapshot) JSON(a *fastjson.Arena) *fastjson.Value {
	o := a.NewObject()
	o.Set("uniqueId", str(a, s.UniqueID))
	o.Set("id", str(a, s.ID))
	o.Set("uploadTotal", unum(a, s.UploadTotal))
	o.Set("uploaded", unum(a, s.Uploaded))
	o.Set("downloadTotal", unum(a, s.DownloadTotal))
	o.Set("downloaded", unum(a, s.Downloaded))
	o.Set("result", str(a, s.Result))
	o.Set("failureReason", str(a, s.FailureReason))
	o.Set("recordsAvailable", boolean(a, s.RecordsAvailable))
	return o
}

// JSON writes the view a BackgroundFetchRecord is built from.
func (r *RecordView) JSON(a *fastjson.Arena) *fastjson.Value {
	o := a.NewObject()
	o.Set("uniqueId", str(a, r.UniqueID))
	o.Set("index", num(a, int64(r.Index)))
	o.Set("request", r.Request.JSON(a))
	o.Set("response", responseJSON(a, r.Response))
	o.Set("generation", num(a, int64(r.Generation)))
	o.Set("segments", num(a, int64(r.Segments)))
	o.Set("result", str(a, r.Result))
	o.Set("exposed", boolean(a, r.Exposed))
	return o
}

// RecordViewFromJSON reads back a view the shim was given.
func RecordViewFromJSON(v *fastjson.Value) RecordView {
	return RecordView{
		UniqueID: getString(v, "uniqueId"), Index: v.GetInt("index"), Request: RequestFromJSON(v.Get("request")),
		Response: responseFromJSON(v.Get("response")), Generation: v.GetInt("generation"),
		Segments: v.GetInt("segments"), Result: getString(v, "result"), Exposed: v.GetBool("exposed"),
	}
}

func (d *fetchDoc) json(a *fastjson.Arena) *fastjson.Value {
	o := a.NewObject()
	o.Set("version", num(a, int64(d.Version)))
	o.Set("uniqueId", str(a, d.UniqueID))
	o.Set("id", str(a, d.ID))
	o.Set("seq", num(a, d.Seq))
	o.Set("options", d.Options.json(a))
	o.Set("uploadTotal", unum(a, d.UploadTotal))
	o.Set("uploaded", unum(a, d.Uploaded))
	o.Set("result", str(a, d.Result))
	o.Set("failureReason", str(a, d.FailureReason))
	o.Set("phase", str(a, d.Phase))
	recs := a.NewArray()
	for i := range d.Records {
		r := &d.Records[i]
		ro := a.NewObject()
		ro.Set("request", r.Request.JSON(a))
		if r.Response != nil {
			ro.Set("response", responseJSON(a, r.Response))
		}
		ro.Set("length", num(a, r.Length))
		ro.Set("generation", num(a, int64(r.Generation)))
		ro.Set("segments", num(a, int64(r.Segments)))
		ro.Set("stored", num(a, r.Stored))
		ro.Set("result", str(a, r.Result))
		if r.Sent {
			ro.Set("sent", a.NewTrue())
		}
		recs.SetArrayItem(i, ro)
	}
	o.Set("records", recs)
	return o
}

func docFromJSON(v *fastjson.Value) *fetchDoc {
	d := &fetchDoc{
		Version: v.GetInt("version"), UniqueID: getString(v, "uniqueId"), ID: getString(v, "id"),
		Seq: v.GetInt64("seq"), Options: OptionsFromJSON(v.Get("options")), UploadTotal: v.GetUint64("uploadTotal"),
		Uploaded: v.GetUint64("uploaded"), Result: getString(v, "result"), FailureReason: getString(v, "failureReason"),
		Phase: getString(v, "phase"),
	}
	for _, r := range v.GetArray("records") {
		d.Records = append(d.Records, recordDoc{
			Request: RequestFromJSON(r.Get("request")), Response: responseFromJSON(r.Get("response")),
			Length: r.GetInt64("length"), Generation: r.GetInt("generation"), Segments: r.GetInt("segments"),
			Stored: r.GetInt64("stored"), Result: getString(r, "result"), Sent: r.GetBool("sent"),
		})
	}
	return d
}
