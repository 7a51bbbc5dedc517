package core

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// errRetry marks an attempt that failed in a way a later attempt may fix.
	errRetry = errors.New("retry")
	// errTotalExceeded stops a body whose next chunk would pass the fetch's downloadTotal.
	errTotalExceeded = errors.New("downloadTotal exceeded")
	// errSegmentDue interrupts a read to store the segment held (storeBody).
	errSegmentDue = errors.New("segment due")
	// errNoRangeResponse marks a cross-origin resume that got no response at all, or not a byte of
	// its body: a server that refuses the preflight its Range and If-Range headers need fails it the
	// first way every time, and one serving an encoded file (CORS hides Content-Encoding, and the
	// range counts decoded bytes) sends a slice of it the browser cannot decode, the second way.
	errNoRangeResponse = errors.New("nothing from a cross-origin range request")
	// errOverran marks a body longer than its response declared.
	errOverran = errors.New("more bytes than the response declared")
	// errNotContinued marks a cross-origin 206 whose first bytes are not the stored ones it was asked
	// to repeat: the server slices an encoded file (CORS hides it), so every resume of it would.
	errNotContinued = errors.New("a resume did not repeat the stored bytes: fetching the whole body")
)

// completeRecord fetches one record until it settles and returns its result (SPEC §3.3). Each
// attempt waits for a network slot (Engine.slot), except a first one whose slot the caller holds
// (release, else nil).
func (e *Engine) completeRecord(f *bgFetch, i int, release func()) (result string) {
	defer func() {
		if r := recover(); r != nil {
			e.p.Logf("bgfetch: record %d of %q: %v", i, f.doc.ID, r)
			result = ReasonFetchError
		}
		result = e.recordEnded(f, i, result)
	}()
	backoff := e.cfg.RetryBackoff
	whole := e.cfg.WholeBody
	noRange := false // ask for the whole body even with bytes stored
	sliced := false  // errNotContinued came: the record's resumes ask for the whole body from then on
	// What an attempt must store beyond to count as progress: the most stored of this version of
	// the resource, so bytes fetched again after a restart from zero (a 416, a bad 206, a server
	// ignoring Range) are not new. A new version starts it again.
	mark := e.stored(f, i)
	for failures := 0; ; {
		if release == nil {
			var err error
			if release, err = e.slot(f); err != nil {
				return ReasonAborted // only an ended fetch stops the wait
			}
		}
		version := e.version(f, i)
		result, err := e.attempt(f, i, whole, noRange || sliced, release)
		release = nil
		if err == nil && result != "" {
			return result // settled and stored: an abort arriving now does not undo it
		}
		if f.ctx.Err() != nil {
			return ReasonAborted
		}
		now := e.stored(f, i)
		progress := now > mark
		if e.version(f, i) != version {
			mark = now
		} else {
			mark = max(mark, now)
		}
		if progress { // the count of attempts in a row without a new byte starts again
			failures, backoff = 0, e.cfg.RetryBackoff
		}
		if err == nil {
			if progress {
				continue // a partial response ended early: ask for the rest
			}
			// Nothing came (an empty 206, a body restarted): a failure, or a server could keep us asking.
			err = retryIf(e.retryable(f, i), io.ErrUnexpectedEOF)
		}
		// After a failure the body streams: each chunk shows the connection is alive.
		whole = 0
		// A cross-origin resume that brought other bytes is the first of its kind and the last (the
		// record's resumes ask for the whole body from then on): it does not use up a try.
		if !progress && !errors.Is(err, errNotContinued) {
			failures++
		}
		// Cross-origin range requests that get nothing (errNoRangeResponse) may never work: rather
		// than fail the record, its last try asks for the whole body, and so do the tries after it.
		if errors.Is(err, errNoRangeResponse) && failures == e.cfg.MaxAttempts-1 {
			noRange = true
		}
		sliced = sliced || errors.Is(err, errNotContinued)
		if !errors.Is(err, errRetry) {
			e.p.Logf("bgfetch: record %d of %q failed: %v", i, f.doc.ID, err)
			return ReasonFetchError
		}
		// The browser may learn it is offline just after a request fails: the last failure too waits,
		// a first backoff, before the network is asked about.
		grace := backoff
		if failures >= e.cfg.MaxAttempts {
			grace = min(backoff, e.cfg.RetryBackoff)
		}
		if !sleep(f.ctx, grace) {
			return ReasonAborted
		}
		// A GET that failed for want of a network waits for one and tries again (SPEC §3.3 step 5).
		// Failures while offline say nothing of the server: they do not count, and do not make a
		// cross-origin resume give up its Range.
		if e.waitOnline(f) {
			failures, backoff, noRange = 0, e.cfg.RetryBackoff, false
			continue
		}
		if f.ctx.Err() != nil {
			return ReasonAborted
		}
		if failures >= e.cfg.MaxAttempts {
			e.p.Logf("bgfetch: record %d of %q failed: %v", i, f.doc.ID, err)
			return ReasonFetchError
		}
		backoff = min(backoff*2, max(e.cfg.MaxBackoff, e.cfg.RetryBackoff))
	}
}

// waitOnline waits while the browser reports no network connection, and reports whether it did.
// A failure to ask is logged and taken for a network that is there.
func (e *Engine) waitOnline(f *bgFetch) bool {
	if e.p.Network == nil {
		return false
	}
	waited, err := e.p.Network.WaitOnline(f.ctx)
	if err != nil && f.ctx.Err() == nil {
		e.p.Logf("bgfetch: asking whether the browser is online: %v", err)
	}
	return waited && err == nil
}

// retryable reports whether record i's request may be sent again after a failure.
func (e *Engine) retryable(f *bgFetch, i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return f.doc.Records[i].retryable()
}

// retryable reports whether the request may be sent again: only a GET has no side effects.
func (r *recordDoc) retryable() bool { return r.Request.Method == "GET" }

func (e *Engine) stored(f *bgFetch, i int) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return f.doc.Records[i].Stored
}

func (e *Engine) setRecordResult(f *bgFetch, i int, result string) {
	e.mu.Lock()
	if f.doc.Records[i].Result == result { // stored with the last segment
		e.mu.Unlock()
		return
	}
	f.doc.Records[i].Result = result
	r := f.doc.record(i)
	f.touch()
	e.mu.Unlock()
	if err := e.p.Store.Put(e.ctx, f.doc.UniqueID, f.doc.encodeRecord(i, &r), nil); err != nil {
		e.p.Logf("bgfetch: storing record %d of %q: %v", i, f.doc.ID, err)
	}
}

// recordEnded stores the result of record i, unless the engine is stopping: then the record
// resumes on the next start.
func (e *Engine) recordEnded(f *bgFetch, i int, result string) string {
	if e.ctx.Err() == nil {
		e.setRecordResult(f, i, result)
	}
	return result
}

// attempt makes one request for record i in the network slot the caller holds, and frees it with
// release as soon as the body has arrived (whole is Fetcher.Fetch's; noRange asks for the whole body
// even with bytes stored). It returns the record's result, or "" with a nil error when the
// body is still incomplete, or an error (wrapping errRetry if retryable).
func (e *Engine) attempt(f *bgFetch, i int, whole int64, noRange bool, release func()) (string, error) {
	defer release()
	if err := f.ctx.Err(); err != nil {
		return "", err // ended while the slot came: no request goes out
	}

	e.mu.Lock()
	rec := f.doc.Records[i]
	e.mu.Unlock()
	retryable := rec.retryable()
	if rec.Response != nil && rec.Length >= 0 && rec.Stored >= rec.Length {
		if rec.Stored > rec.Length {
			return "", e.overran(f, i, retryable)
		}
		return bodyResult(&rec), nil // stored whole before a stop cut off its result's write
	}
	body, err := e.requestBody(f, i, &rec)
	if err != nil {
		return "", err
	}
	// A resume continues the stored bytes from rangeStart, asking from start for the stored tail again.
	rangeStart, start, ifRange, tail := int64(0), int64(0), "", []byte(nil)
	if rec.Stored > 0 && canResume(&rec) && !noRange {
		tail = e.tail(f, i, &rec)
		rangeStart, ifRange = rec.Stored, validator(rec.Response)
		start = rangeStart - int64(len(tail))
	}
	wd, actx := newWatchdog(f.ctx, e.p.Clock, e.cfg.StallTimeout, &e.arrived)
	defer wd.halt()
	resp, stream, err := e.p.Fetcher.Fetch(actx, &rec.Request, body, start, 0, ifRange, whole)
	if err != nil {
		if rangeStart > 0 && rec.Response.Type == "cors" {
			err = errors.Join(errNoRangeResponse, err)
		}
		return "", retryIf(retryable, wd.stalled(err))
	}
	wd.arrived()
	defer func() { stream.Cancel() }() // the stream it ends up as: windows wrap it
	small := e.small(resp)
	f.small.Store(small) // the fetch's next requests are likely alike
	switch {
	case rangeStart > 0 && resp.Status == 416 && start == rangeStart && rangeComplete(&rec, resp, rangeStart):
		e.mu.Lock()
		f.doc.Records[i].Length = rangeStart
		rec = f.doc.Records[i]
		e.mu.Unlock()
		return bodyResult(&rec), nil // every byte was stored: only the result's write was missing
	case rangeStart > 0 && resp.Status == 416: // the resource changed under the stored bytes
		e.restartBody(f, i)
		return "", nil
	case rangeStart > 0 && resp.Status == 206:
		length, ok := partialValid(&rec, resp, start)
		if !ok {
			e.restartBody(f, i) // the next attempt asks for the whole body
			return "", nil
		}
		e.mu.Lock()
		f.doc.Records[i].Length = length
		e.mu.Unlock()
	default:
		e.startBody(f, i, resp)
	}
	if !small { // its turn bounds the segments held in JS, however many requests are in flight
		wd.awaitTurn()
		if err := e.streams.acquire(actx, f.doc.UniqueID); err != nil {
			return "", retryIf(retryable, wd.stalled(err))
		}
		defer e.streams.release()
		wd.turnCame()
	}
	if resp.Status == 206 && len(tail) > 0 {
		same, serr := stream.Skip(actx, tail)
		if serr == nil && !same {
			// Not the bytes stored (an encoded file sliced in its encoded bytes, a version its
			// validators do not tell apart): the next attempt asks for the whole body.
			e.p.Logf("bgfetch: record %d of %q: %v", i, f.doc.ID, errNotContinued)
			e.restartBody(f, i)
			if resp.Type == "cors" {
				return "", retryIf(retryable, errNotContinued)
			}
			return "", nil
		}
		if serr == nil {
			wd.arrived()
		}
		err = serr
	}
	if err == nil {
		e.mu.Lock()
		rec = f.doc.Records[i]
		e.mu.Unlock()
		pos := rangeStart // a 206's next byte after the overlap; a 200's first
		if resp.Status != 206 {
			pos = 0
		}
		if w := e.windowed(f, i, &rec); w > 0 && pos+w < rec.Length {
			stream = e.windows(actx, wd, f, i, &rec, stream, pos, pos+w-1)
		}
		err = e.storeBody(f, i, stream, actx, wd, release)
	}
	e.mu.Lock()
	rec = f.doc.Records[i]
	e.mu.Unlock()
	if rec.Length >= 0 && rec.Stored > rec.Length { // however the body ended: no such bytes may count as progress
		return "", e.overran(f, i, retryable)
	}
	if err != nil {
		switch {
		case errors.Is(err, errTotalExceeded):
			return ReasonDownloadTotalExceeded, nil
		case IsQuotaExceeded(err):
			return ReasonQuotaExceeded, nil
		case resp.Status == 206 && rec.Response.Type == "cors" && rec.Stored == rangeStart:
			err = errors.Join(errNoRangeResponse, err)
		}
		return "", retryIf(retryable, wd.stalled(err))
	}
	if result := bodyResult(&rec); result != "" {
		return result, nil
	}
	if resp.Status == 206 {
		return "", nil
	}
	return "", retryIf(retryable, io.ErrUnexpectedEOF)
}

// tail returns the last stored bytes of record i (at most ResumeOverlap), which a resume asks for
// again to check that it continues them; nil if they cannot be read (the resume goes unchecked).
func (e *Engine) tail(f *bgFetch, i int, rec *recordDoc) []byte {
	n := min(int64(e.cfg.ResumeOverlap), rec.Stored-1) // a byte at least is not asked again: the request keeps its Range
	if n <= 0 || rec.Segments == 0 {
		return nil
	}
	b, err := e.p.Store.Tail(f.ctx, f.doc.UniqueID, i, rec.Generation, rec.Segments-1, int(n))
	if err != nil || int64(len(b)) > n {
		e.p.Logf("bgfetch: record %d of %q: its stored tail: %v", i, f.doc.ID, err)
		return nil
	}
	return b
}

// small reports whether resp declares a body of at most WholeBody bytes as it arrives.
func (e *Engine) small(resp *Response) bool {
	n := declaredLength(resp)
	return n >= 0 && n <= e.cfg.WholeBody
}

// bodyResult is the result of a record whose body has ended: "" while bytes are missing (or more
// came than the response declared: attempt restarts it).
func bodyResult(r *recordDoc) string {
	switch {
	case r.Length >= 0 && r.Stored != r.Length:
		return ""
	case r.Response.OK():
		return ResultSuccess
	}
	return ReasonBadStatus
}

func retryIf(retryable bool, err error) error {
	if retryable {
		return errors.Join(errRetry, err)
	}
	return err
}

func (e *Engine) requestBody(f *bgFetch, i int, rec *recordDoc) (any, error) {
	if !rec.Request.HasBody {
		return nil, nil
	}
	if b, ok := f.bodies[i]; ok {
		return b, nil
	}
	return e.p.Store.Body(f.ctx, f.doc.UniqueID, i)
}

// overran restarts record i, which stored more bytes than its response declared (a 206 longer than
// its range): they are not the resource's.
func (e *Engine) overran(f *bgFetch, i int, retryable bool) error {
	e.restartBody(f, i)
	return retryIf(retryable, errOverran)
}

// version is the validator of record i's stored response ("" without one).
func (e *Engine) version(f *bgFetch, i int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := f.doc.Records[i].Response; r != nil {
		return validator(r)
	}
	return ""
}

// restartBody discards the bytes stored for record i.
func (e *Engine) restartBody(f *bgFetch, i int) {
	e.mu.Lock()
	resetBodyLocked(&f.doc.Records[i])
	r := f.doc.record(i)
	f.touch()
	e.mu.Unlock()
	if err := e.p.Store.Put(f.ctx, f.doc.UniqueID, f.doc.encodeRecord(i, &r), nil); err != nil {
		e.p.Logf("bgfetch: restarting record %d: %v", i, err)
	}
	f.progress.kick()
}

func resetBodyLocked(r *recordDoc) {
	if r.Stored > 0 || r.Segments > 0 {
		r.Generation++ // old segments are never read again and go with the fetch
		r.Stored, r.Segments = 0, 0
	}
}

// startBody records a fresh response for record i; bytes stored before are discarded.
func (e *Engine) startBody(f *bgFetch, i int, resp *Response) {
	e.mu.Lock()
	r := &f.doc.Records[i]
	gen := r.Generation
	resetBodyLocked(r)
	if r.Response != nil && r.Generation == gen && !sameResponse(r.Response, resp) {
		r.Generation++ // a reader may hold the earlier response's head: its body must not be this one
	}
	r.Response = exposed(resp)
	if r.Request.HasBody { // a response means the server has the whole request body
		r.Sent = true
	}
	r.Length = -1
	if resp.Status != 206 && r.Request.Method != "HEAD" && !nullBodyStatus(resp.Status) {
		r.Length = declaredLength(resp)
	}
	f.touch() // the next write of the document (a segment or the result) stores the response
	e.mu.Unlock()
	f.progress.kick()
}

// storeBody streams the body into segments of at most about SegmentSize bytes (Config.segmentDue).
// A segment is stored while the next one is read (one write in flight per record, so writes stay
// in order); one due by its age alone keeps growing while the one before it is still being stored.
// A read that outlasts FlushBy of a held segment is interrupted to store it, so a pause of the
// network leaves no bytes unstored (and uncounted by progress) for long.
// Reads end with actx; wd is fed whenever bytes arrive or a segment is stored; arrived is called
// once the whole body is in hand, before the last segment is stored. The last segment carries the
// record's result, so a small record costs one write, not two.
func (e *Engine) storeBody(f *bgFetch, i int, stream Body, actx context.Context, wd *watchdog, arrived func()) (err error) {
	var (
		chunks  []Chunk
		size    int
		since   time.Time
		writing chan error // the segment being stored, if any
		rctx    = actx     // reads' context: while a segment is held, it ends when that is due
		disarm  = func() {}
	)
	// hold arms the deadline of a segment begun now.
	hold := func() {
		ctx, cancel := context.WithCancelCause(actx)
		stop := e.p.Clock.AfterFunc(e.cfg.FlushBy, func() { cancel(errSegmentDue) })
		rctx, disarm = ctx, func() { stop(); cancel(nil) }
	}
	wait := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		wd.feed() // time spent storing is not the network's silence
		return err
	}
	// idle reports whether no segment is being stored, taking the result of one that was.
	idle := func() (bool, error) {
		select {
		case err := <-writing: // a nil channel never answers
			writing = nil
			wd.feed()
			return true, err
		default:
			return writing == nil, nil
		}
	}
	defer func() {
		disarm()
		if werr := wait(); err == nil {
			err = werr
		}
		if size > 0 { // accepted by admit but never handed to a write (a write failed first)
			e.mu.Lock()
			f.buffered -= int64(size)
			e.mu.Unlock()
		}
	}()
	flush := func(last bool) error {
		if size == 0 {
			return nil
		}
		disarm()
		rctx, disarm = actx, func() {}
		if err := wait(); err != nil {
			return err
		}
		if last { // nothing more to read while it is stored
			c, n := chunks, size
			chunks, size = nil, 0
			return e.storeSegment(f, i, c, n, true)
		}
		done, c, n := make(chan error, 1), chunks, size
		go func() { done <- e.storeSegment(f, i, c, n, false) }()
		writing, chunks, size = done, nil, 0
		return nil
	}
	for {
		c, err := stream.Next(rctx)
		if err == nil {
			wd.arrived()
		} else if errors.Is(err, context.Canceled) && actx.Err() == nil && context.Cause(rctx) == errSegmentDue {
			if err := flush(false); err != nil {
				return err
			}
			continue
		}
		if err == io.EOF {
			arrived()
			return flush(true)
		}
		if err != nil {
			if ferr := flush(false); ferr != nil {
				return ferr
			}
			if werr := wait(); werr != nil { // a write refused (quota) decides the record, not the drop after it
				return werr
			}
			return err
		}
		if c.Len() == 0 {
			continue
		}
		if !e.admit(f, c.Len()) {
			if ferr := flush(false); ferr != nil {
				return ferr
			}
			return errTotalExceeded
		}
		if size == 0 {
			since = e.p.Clock.Now()
			hold()
		}
		chunks = append(chunks, c)
		size += c.Len()
		free, werr := idle()
		if werr != nil {
			return werr
		}
		if e.cfg.segmentDue(size, e.p.Clock.Now().Sub(since), free) {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

// admit accepts n more body bytes unless they would make the stored total exceed a
// non-zero downloadTotal (SPEC §3.13 rule 6: "would exceed", checked before storing).
func (e *Engine) admit(f *bgFetch, n int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	total := f.doc.Options.DownloadTotal
	if total > 0 && f.doc.downloaded()+uint64(f.buffered)+uint64(n) > total {
		return false
	}
	f.buffered += int64(n)
	return true
}

// storeSegment writes one segment with the record's document that counts it, then applies it in
// memory, so a stored document never counts a segment that is not stored. The last segment of a
// body also stores the record's result when the body is complete.
func (e *Engine) storeSegment(f *bgFetch, i int, chunks []Chunk, size int, last bool) error {
	e.mu.Lock()
	r := f.doc.record(i)
	seg := &Segment{Record: i, Generation: r.Generation, Seq: r.Segments, Chunks: chunks,
		Small: last && r.Segments == 0 && int64(size) <= e.cfg.WholeBody}
	r.Segments++
	r.Stored += int64(size)
	if last {
		r.Result = bodyResult(&r)
	}
	e.mu.Unlock()
	err := e.p.Store.Put(f.ctx, f.doc.UniqueID, f.doc.encodeRecord(i, &r), seg)
	e.mu.Lock()
	f.buffered -= int64(size)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	f.doc.Records[i].Segments++
	f.doc.Records[i].Stored += int64(size)
	f.doc.Records[i].Result = r.Result
	f.touch()
	e.mu.Unlock()
	f.progress.kick()
	return nil
}

// exposed is the response as records expose it: without Content-Length and Content-Range.
func exposed(resp *Response) *Response {
	c := *resp
	c.Headers = nil
	for _, h := range resp.Headers {
		if equalFold(h[0], "Content-Length") || equalFold(h[0], "Content-Range") {
			continue
		}
		c.Headers = append(c.Headers, h)
	}
	return &c
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
