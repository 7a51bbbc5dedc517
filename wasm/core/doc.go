package core

import (
	"fmt"

	"github.com/valyala/fastjson"
)

// SchemaVersion is the version of the stored documents; bump it with a migration. Version 2 stores
// each record in its own document, so a segment's write carries one record, not the whole fetch.
const SchemaVersion = 2

// Doc is one stored document of a fetch: the fetch's own (Record < 0) or record Record's.
type Doc struct {
	Record int
	JSON   []byte
}

// Phases of a stored fetch: a restart resumes, re-dispatches or deletes by phase.
const (
	phaseActive  = "active"  // downloading; in the active fetches map
	phaseAborted = "aborted" // abort() removed it; its records end aborted, then the abort event
	phaseDecided = "decided" // result set; completion event not yet settled
	phaseSettled = "settled" // event settled; records unavailable, data to delete
)

// fetchDoc is a background fetch as stored: a document of its own and one per record.
type fetchDoc struct {
	Version       int
	UniqueID      string
	ID            string
	Seq           int64 // creation order, for getIds()
	Options       Options
	UploadTotal   uint64
	Result        string
	FailureReason string
	Phase         string
	Redispatched  int // completion events sent again after a stop interrupted them
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

// uploaded counts the request bodies of the records that were sent.
func (d *fetchDoc) uploaded() uint64 {
	var n uint64
	for i := range d.Records {
		if r := &d.Records[i]; r.Sent {
			n += uint64(r.Request.BodySize)
		}
	}
	return n
}

func (d *fetchDoc) downloaded() uint64 {
	var n uint64
	for i := range d.Records {
		n += uint64(d.Records[i].Stored)
	}
	return n
}

// encode writes the fetch's own document.
func (d *fetchDoc) encode() Doc {
	w := &jsonWriter{b: make([]byte, 0, 256)}
	d.json(w)
	return Doc{Record: -1, JSON: w.b}
}

// encodeRecord writes the document of record i, r (a copy taken with record).
func (d *fetchDoc) encodeRecord(i int, r *recordDoc) Doc {
	// Sized for the request and response heads, so the buffer rarely grows: growing it was the
	// largest allocation of a fan-out of small files.
	w := &jsonWriter{b: make([]byte, 0, 1024)}
	r.json(w, d.UniqueID, i)
	return Doc{Record: i, JSON: w.b}
}

// encodeAll writes every document of the fetch.
func (d *fetchDoc) encodeAll() []Doc {
	docs := []Doc{d.encode()}
	for i := range d.Records {
		docs = append(docs, d.encodeRecord(i, &d.Records[i]))
	}
	return docs
}

// record copies record i so it can be encoded outside the engine's lock (held by the caller); its
// head is encoded first, once, so each copy carries it.
func (d *fetchDoc) record(i int) recordDoc {
	r := &d.Records[i]
	if r.head == nil || r.headFor != r.Response {
		r.head, r.headFor = r.appendHead(nil), r.Response
	}
	return *r
}

// decodeDocs joins stored documents into fetches. A fetch is left out, with the reason, when a
// document of it cannot be read or one of its records has none; records of no fetch are ignored.
func decodeDocs(docs [][]byte) (fetches []*fetchDoc, dropped []error) {
	type key struct {
		uid   string
		index int
	}
	records := map[key]recordDoc{}
	bad := map[string]bool{} // fetches with a document of another schema
	var p fastjson.Parser
	for _, b := range docs {
		v, err := p.ParseBytes(b)
		if err != nil {
			dropped = append(dropped, err)
			continue
		}
		uid := getString(v, "uniqueId")
		if n := v.GetInt("version"); n != SchemaVersion {
			bad[uid] = true
			dropped = append(dropped, fmt.Errorf("fetch %q: unknown schema version %d", uid, n))
			continue
		}
		if v.Exists("index") {
			records[key{uid, v.GetInt("index")}] = recordFromJSON(v)
			continue
		}
		d := docFromJSON(v)
		d.Records = make([]recordDoc, v.GetInt("records"))
		fetches = append(fetches, d)
	}
	kept := fetches[:0]
	for _, d := range fetches {
		if bad[d.UniqueID] {
			continue
		}
		var err error
		for i := 0; i < len(d.Records); i++ {
			r, ok := records[key{d.UniqueID, i}]
			if !ok {
				err = fmt.Errorf("fetch %q: record %d is missing", d.UniqueID, i)
				break
			}
			d.Records[i] = r
		}
		if err != nil {
			dropped = append(dropped, err)
			continue
		}
		kept = append(kept, d)
	}
	return kept, dropped
}
