package core

import (
	"encoding/json"
	"fmt"
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
	Version       int         `json:"version"`
	UniqueID      string      `json:"uniqueId"`
	ID            string      `json:"id"`
	Seq           int64       `json:"seq"` // creation order, for getIds()
	Options       Options     `json:"options"`
	UploadTotal   uint64      `json:"uploadTotal"`
	Uploaded      uint64      `json:"uploaded"`
	Result        string      `json:"result"`
	FailureReason string      `json:"failureReason"`
	Phase         string      `json:"phase"`
	Records       []recordDoc `json:"records"`
}

// recordDoc is one record: its request and what of its response is stored.
type recordDoc struct {
	Request    Request   `json:"request"`
	Response   *Response `json:"response,omitempty"`
	Length     int64     `json:"length"`         // complete length of the body, -1 if unknown
	Generation int       `json:"generation"`     // bumped when the body restarts from zero
	Segments   int       `json:"segments"`       // segments stored in this generation
	Stored     int64     `json:"stored"`         // body bytes stored in this generation
	Result     string    `json:"result"`         // "", "success" or a failure reason
	Sent       bool      `json:"sent,omitempty"` // the request body reached the server: counted in uploaded
}

func (d *fetchDoc) downloaded() uint64 {
	var n uint64
	for i := range d.Records {
		n += uint64(d.Records[i].Stored)
	}
	return n
}

func (d *fetchDoc) encode() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	return b
}

func decodeDoc(b []byte) (*fetchDoc, error) {
	var d fetchDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.Version != SchemaVersion {
		return nil, fmt.Errorf("fetch %q: unknown schema version %d", d.UniqueID, d.Version)
	}
	return &d, nil
}

// clone copies a document so it can be encoded outside the engine's lock.
func (d *fetchDoc) clone() *fetchDoc {
	c := *d
	c.Records = append([]recordDoc(nil), d.Records...)
	return &c
}
