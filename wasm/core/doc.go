package core

import (
	"fmt"

	"github.com/valyala/fastjson"
)

// SchemaVersion is the version of the stored fetch document; bump it with a migration.
const SchemaVersion = 1

// Phases of a stored fetch: a restart resumes, re-dispatches or deletes by phase.
const (
	phaseActive  = "active"  // downloading; in the active fetches map
	phaseDecided = "decided" // result set; completion event not yet settled
	phaseSettled = "settled" // event settled; records unavailable, data to delete
)

// fetchDoc is a background fetch as stored, one document per fetch.
type fetchDoc struct {
	Version       int
	UniqueID      string
	ID            string
	Seq           int64 // creation order, for getIds()
	Options       Options
	UploadTotal   uint64
	Uploaded      uint64
	Result        string
	FailureReason string
	Phase         string
	Records       []recordDoc
}

// recordDoc is one record: its request and what of its response is stored.
type recordDoc struct {
	Request    Request
	Response   *Response
	Length     int64  // complete length of the body, -1 if unknown
	Generation int    // bumped when the body restarts from zero
	Segments   int    // segments stored in this generation
	Stored     int64  // body bytes stored in this generation
	Result     string // "", "success" or a failure reason
	Sent       bool   // the request body reached the server: counted in uploaded

	// head is the record's request and response as the document writes them, for the response
	// headFor: encoding them again for every write was most of a document's cost.
	head    []byte
	headFor *Response
}

func (d *fetchDoc) downloaded() uint64 {
	var n uint64
	for i := range d.Records {
		n += uint64(d.Records[i].Stored)
	}
	return n
}

func (d *fetchDoc) encode() []byte {
	// Sized for a record with its request and response heads, so the buffer rarely grows: growing
	// it was the largest allocation of a fan-out of small files.
	w := &jsonWriter{b: make([]byte, 0, 512+1024*len(d.Records))}
	d.json(w)
	return w.b
}

func decodeDoc(b []byte) (*fetchDoc, error) {
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return nil, err
	}
	d := docFromJSON(v)
	if d.Version != SchemaVersion {
		return nil, fmt.Errorf("fetch %q: unknown schema version %d", d.UniqueID, d.Version)
	}
	return d, nil
}

// clone copies a document so it can be encoded outside the engine's lock (held by the caller);
// the records' heads are encoded first, once, so each copy carries them.
func (d *fetchDoc) clone() *fetchDoc {
	for i := range d.Records {
		if r := &d.Records[i]; r.head == nil || r.headFor != r.Response {
			r.head, r.headFor = r.appendHead(nil), r.Response
		}
	}
	c := *d
	c.Records = append([]recordDoc(nil), d.Records...)
	return &c
}
