package core

import "context"

// RecordView is what a BackgroundFetchRecord needs to build its request and response.
type RecordView struct {
	UniqueID   string
	Index      int
	Request    Request
	Response   *Response
	Generation int
	Segments   int
	Result     string
	Exposed    bool // the response may be read (SPEC §2: "", success or bad-status)
}

// exposedResult reports whether a record with this result exposes its response.
func exposedResult(result string) bool {
	return result == ResultNone || result == ResultSuccess || result == ReasonBadStatus
}

func viewLocked(f *bgFetch, i int) RecordView {
	r := &f.doc.Records[i]
	return RecordView{
		UniqueID: f.doc.UniqueID, Index: i, Request: r.Request, Response: r.Response,
		Generation: r.Generation, Segments: r.Segments, Result: r.Result, Exposed: exposedResult(r.Result),
	}
}

// MatchAll returns the records matching query (all of them when query is nil), in request order (SPEC §3.7).
func (e *Engine) MatchAll(uniqueID string, query *Request, opts QueryOptions) ([]RecordView, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.fetches[uniqueID]
	if f == nil || !f.recordsAvailable {
		return nil, invalidState("The records associated with this background fetch are no longer available.")
	}
	views := []RecordView{}
	for i := range f.doc.Records {
		if query == nil || requestMatches(query, &f.doc.Records[i], opts) {
			views = append(views, viewLocked(f, i))
		}
	}
	return views, nil
}

// WaitRecord returns the record once it differs from seen: a response, a segment or a result arrived.
// It returns seen unchanged when ctx ends first, so callers can poll with a bounded wait.
func (e *Engine) WaitRecord(ctx context.Context, seen RecordView) (RecordView, error) {
	for {
		e.mu.Lock()
		f := e.fetches[seen.UniqueID]
		if f == nil || seen.Index < 0 || seen.Index >= len(f.doc.Records) {
			e.mu.Unlock()
			return seen, typeError("The response is not available.")
		}
		v := viewLocked(f, seen.Index)
		changed := f.changed
		e.mu.Unlock()
		if (v.Response != nil) != (seen.Response != nil) || v.Generation != seen.Generation ||
			v.Segments != seen.Segments || v.Result != seen.Result {
			return v, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return v, nil
		}
	}
}
