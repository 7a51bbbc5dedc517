package core

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func fullDoc() *fetchDoc {
	req := Request{URL: "https://a/x?q=\"é\"", Method: "POST", Headers: [][2]string{{"X-A", "1, 2"}, {"Ünï", "\n\t\\"}},
		Mode: "cors", Credentials: "include", Cache: "no-store", Redirect: "follow", Referrer: "about:client",
		ReferrerPolicy: "no-referrer", Integrity: "sha256-x", BodySize: 1 << 40, HasBody: true}
	resp := &Response{Status: 206, StatusText: "Partial", Headers: [][2]string{{"ETag", `"v1"`}},
		URL: "https://a/x", Redirected: true, Type: "cors"}
	return &fetchDoc{Version: SchemaVersion, UniqueID: "u", ID: "id\u2028", Seq: 42,
		Options:     Options{DownloadTotal: 1<<63 + 5, Title: "T", Icons: []Icon{{Src: "/i.png", Sizes: "16x16", Type: "image/png", Label: "L"}, {Src: "/j"}}},
		UploadTotal: 1 << 40, Result: ResultFailure, FailureReason: ReasonAborted, Phase: phaseDecided,
		Records: []recordDoc{
			{Request: req, Response: resp, Length: -1, Generation: 2, Segments: 7, Stored: 123456789, Result: ReasonBadStatus, Sent: true},
			{Request: get("https://b/")},
		}}
}

func TestDocumentCodecKeepsEveryField(t *testing.T) {
	d := fullDoc()
	back, dropped := decodeDocs(jsons(d.encodeAll()))
	require.Empty(t, dropped)
	require.Len(t, back, 1)
	assert.Equal(t, d, back[0])
	for _, doc := range d.encodeAll() {
		assert.True(t, json.Valid(doc.JSON), string(doc.JSON))
	}
}

// A fetch loads only with every record's document; the documents of other fetches do not count.
func TestDocumentsOfAFetchLoadTogether(t *testing.T) {
	d := fullDoc()
	other := fullDoc()
	other.UniqueID = "v"
	docs := jsons(append(d.encodeAll(), other.encodeAll()...))
	back, dropped := decodeDocs(append(docs[:1:1], docs[2:]...)) // d without its first record
	assert.Len(t, dropped, 1)
	require.Len(t, back, 1)
	assert.Equal(t, other, back[0])
}

// Version 1 kept a fetch and its records in one document: such a fetch is dropped (its data with it).
func TestDocumentCodecDropsVersion1(t *testing.T) {
	old := `{"version":1,"uniqueId":"u","id":"i","seq":3,"options":{"downloadTotal":10,"title":"t","icons":null},` +
		`"uploadTotal":0,"uploaded":0,"result":"","failureReason":"","phase":"active","records":[{"request":` +
		`{"url":"https://a/","method":"GET","headers":[["a","b"]],"mode":"cors","credentials":"same-origin",` +
		`"cache":"default","redirect":"follow","referrer":"","referrerPolicy":"","integrity":"","bodySize":0,` +
		`"hasBody":false},"response":{"status":200,"statusText":"OK","headers":null,"url":"https://a/",` +
		`"redirected":false,"type":"basic"},"length":5,"generation":1,"segments":1,"stored":5,"result":""}]}`
	back, dropped := decodeDocs([][]byte{[]byte(old), []byte(`{"version":2`)})
	assert.Empty(t, back)
	assert.Len(t, dropped, 2)
}

func TestRecordViewAndSnapshotCodec(t *testing.T) {
	d := fullDoc()
	f := &bgFetch{doc: d}
	for i := range d.Records {
		v := viewLocked(f, i)
		parsed := fastjson.MustParseBytes(v.AppendJSON(nil))
		assert.Equal(t, v, RecordViewFromJSON(parsed))
	}
	s := Snapshot{UniqueID: "u", ID: "i", UploadTotal: 1, Uploaded: 2, DownloadTotal: 3, Downloaded: 4,
		Result: ResultSuccess, RecordsAvailable: true, Epoch: 1700000000123, Seq: 9}
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.AppendJSON(nil), &m))
	assert.Equal(t, map[string]any{"uniqueId": "u", "id": "i", "uploadTotal": 1.0, "uploaded": 2.0,
		"downloadTotal": 3.0, "downloaded": 4.0, "result": "success", "failureReason": "", "recordsAvailable": true,
		"epoch": 1700000000123.0, "seq": 9.0}, m)
}

// Every byte a JS string can bring survives the writer, as encoding/json reads it back.
func TestJSONStringEscapesWhatJSONRequires(t *testing.T) {
	var raw []byte
	for c := 0; c < 0x80; c++ {
		raw = append(raw, byte(c))
	}
	for _, s := range []string{"", "plain", string(raw), "é\u2028\u2029😀", `"quoted" \back\`} {
		b := AppendJSONString([]byte("x"), s)
		require.Equal(t, byte('x'), b[0])
		var back string
		require.NoError(t, json.Unmarshal(b[1:], &back), "%q", b)
		assert.Equal(t, s, back)
	}
}

func TestRequestInitJSON(t *testing.T) {
	r := Request{URL: "https://a/", Method: "GET", Headers: [][2]string{{"X-A", "1"}}, Mode: "cors",
		Credentials: "include", Cache: "no-cache", Redirect: "follow", Integrity: "sha256-x"}
	assert.JSONEq(t, `{"headers":[["X-A","1"]],"method":"GET","credentials":"include","redirect":"follow",`+
		`"mode":"cors","cache":"no-cache","integrity":"sha256-x"}`, string(r.InitJSON(0, 0, "")))
	// A resumed request asks for the rest, if it is still the same, uncached and unchecked.
	assert.JSONEq(t, `{"headers":[["X-A","1"],["Range","bytes=10-"],["If-Range","\"v1\""]],"method":"GET",`+
		`"credentials":"include","redirect":"follow","mode":"cors","cache":"no-store"}`, string(r.InitJSON(10, 0, `"v1"`)))
	// A window of a large body is bounded (Config.Window).
	assert.Contains(t, string(r.InitJSON(10, 19, `"v1"`)), `["Range","bytes=10-19"]`)
	assert.Equal(t, [][2]string{{"X-A", "1"}}, r.Headers, "the stored request is unchanged")
	r.Mode, r.Cache, r.ReferrerPolicy, r.Redirect = "navigate", "only-if-cached", "no-referrer", "manual"
	assert.JSONEq(t, `{"headers":[["X-A","1"]],"method":"GET","credentials":"include","redirect":"follow",`+
		`"integrity":"sha256-x","referrerPolicy":"no-referrer"}`, string(r.InitJSON(0, 0, "")))
}

func TestURLParts(t *testing.T) {
	type parts struct {
		scheme      string
		credentials bool
		port        string
		ok          bool
	}
	for in, want := range map[string]parts{
		"https://a/x":               {"https", false, "", true},
		"HTTP://a:8080/x?y#z":       {"http", false, "8080", true},
		"https://u:p@a/x":           {"https", true, "", true},
		"https://a/x@y:9":           {"https", false, "", true},
		"https://a?q=b:9":           {"https", false, "", true},
		"http://[::1]:587/":         {"http", false, "587", true},
		"http://[::1]/x":            {"http", false, "", true},
		"http://[::1/x":             {"", false, "", false},
		"data:text/plain,hi":        {"data", false, "", true},
		"wss://a:1/":                {"wss", false, "1", true},
		"/relative":                 {"", false, "", false},
		"1http://a/":                {"", false, "", false},
		"https:///x":                {"", false, "", false},
		"blob:https://a/0-1-2-3-4":  {"blob", false, "", true},
		"https://user@a:99999/path": {"https", true, "99999", true},
	} {
		s, c, p, ok := urlParts(in)
		assert.Equal(t, want, parts{s, c, p, ok}, in)
	}
}

// A record keeps its request and response encoded between writes; a new response replaces them,
// so a write never stores a stale one.
func TestRecordCopiesWriteTheCurrentResponse(t *testing.T) {
	d := &fetchDoc{Version: SchemaVersion, UniqueID: "u", ID: "x", Phase: phaseActive,
		Records: []recordDoc{{Request: get("https://a/1"), Length: -1}, {Request: get("https://a/2"), Length: -1}}}
	uncached := func() string {
		r := d.Records[1]
		r.head, r.headFor = nil, nil
		return string(d.encodeRecord(1, &r).JSON)
	}
	r := d.record(1)
	assert.Equal(t, uncached(), string(d.encodeRecord(1, &r).JSON))
	for _, etag := range []string{"v1", "v2"} {
		d.Records[1].Response = &Response{Status: 200, Type: "basic", Headers: [][2]string{{"ETag", etag}}}
		d.Records[1].Stored += 10
		r := d.record(1)
		got := string(d.encodeRecord(1, &r).JSON)
		assert.Equal(t, uncached(), got)
		assert.Contains(t, got, etag)
	}
}
