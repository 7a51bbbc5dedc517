package core

import "sync"

// perform runs every record of f and then completes it (SPEC §3.2).
func (e *Engine) perform(f *bgFetch) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		reason string // the first failure wins, but for aborted
	)
	settle := func(result string) {
		mu.Lock()
		defer mu.Unlock()
		// A record ends aborted when another's failure cancels the fetch: after a restart, settled
		// in record order, it must not hide that failure (abort() itself wins in decide).
		if result != ResultSuccess && (reason == "" || reason == ReasonAborted) {
			reason = result
		}
		if result == ReasonDownloadTotalExceeded || result == ReasonQuotaExceeded {
			f.cancel() // the record failures that stop the others: no byte more can be stored
		}
	}
	e.mu.Lock()
	n := len(f.doc.Records)
	done := make([]string, n)
	for i := range f.doc.Records {
		done[i] = f.doc.Records[i].Result
	}
	e.mu.Unlock()
	// A record's goroutine starts once it holds a network slot: a fan-out of many records keeps one
	// waiting goroutine per fetch, not one per record (the collector scans every goroutine's stack).
	for i := 0; i < n; i++ {
		if done[i] != "" {
			settle(done[i])
			continue
		}
		release, err := e.slot(f)
		if err != nil {
			settle(e.recordEnded(f, i, ReasonAborted)) // aborted, or the engine is stopping
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			settle(e.completeRecord(f, i, release))
		}(i)
	}
	wg.Wait()
	if e.ctx.Err() != nil {
		return // the worker is stopping: the stored state resumes on the next start
	}
	e.decide(f, reason)
}

// decide sets the result of f once its records have settled, then finishes it.
func (e *Engine) decide(f *bgFetch, reason string) {
	f.docMu.Lock()
	e.mu.Lock()
	if e.active[f.doc.ID] == f {
		delete(e.active, f.doc.ID)
	} else {
		reason = ReasonAborted // abort() removed it first: it gets the abort event
	}
	if reason != "" {
		f.doc.Result, f.doc.FailureReason = ResultFailure, reason
	} else {
		f.doc.Result = ResultSuccess
	}
	f.doc.Phase = phaseDecided
	doc := f.doc.encode()
	f.touch()
	e.mu.Unlock()
	if err := e.p.Store.Put(e.ctx, f.doc.UniqueID, doc, nil); err != nil {
		e.p.Logf("bgfetch: storing the result of %q: %v", f.doc.ID, err)
	}
	f.docMu.Unlock()
	e.finish(f, true)
}

// maxRedispatches bounds how often a completion event a stop interrupted is sent again: a handler
// that always outlasts the worker's life (its waitUntil does not keep a real worker alive) must not
// run again at every start for ever. Chromium sends the event once.
const maxRedispatches = 2

// redispatch finishes a fetch whose completion event a stop interrupted. The attempt is stored
// before the event goes, so a stop during it counts; past maxRedispatches the fetch settles
// without an event.
func (e *Engine) redispatch(f *bgFetch) {
	e.mu.Lock()
	f.doc.Redispatched++
	again := f.doc.Redispatched <= maxRedispatches
	doc := f.doc.encode()
	e.mu.Unlock()
	if again {
		if err := e.p.Store.Put(e.ctx, f.doc.UniqueID, doc, nil); err != nil {
			e.p.Logf("bgfetch: storing the dispatch of %q: %v", f.doc.ID, err)
		}
	} else {
		e.p.Logf("bgfetch: the %s event of %q was cut short %d times: its records are deleted without it",
			eventFor(f.doc.FailureReason), f.doc.ID, maxRedispatches+1)
	}
	e.finish(f, again)
}

// eventFor names the completion event for a failure reason (SPEC §3.2 step 4.4).
func eventFor(reason string) string {
	switch reason {
	case ReasonNone:
		return "backgroundfetchsuccess"
	case ReasonAborted:
		return "backgroundfetchabort"
	default:
		return "backgroundfetchfail"
	}
}

// finish delivers the final update, dispatches the completion event (if dispatch), and once it
// has settled makes the records unavailable and deletes the stored data.
func (e *Engine) finish(f *bgFetch, dispatch bool) {
	if e.lost.Load() {
		return // StorageLost sent the last update
	}
	final := e.snapshot(f)
	f.progress.final(final)
	event := "" // no new event; one still running from an engine before this one is waited for
	if dispatch {
		event = eventFor(final.FailureReason)
		e.p.Notifier.Sync(e.ctx, final.UniqueID)
	}
	if err := e.p.Notifier.Dispatch(e.ctx, event, final); err != nil {
		e.p.Logf("bgfetch: dispatching the event of %q: %v", final.ID, err)
	}
	e.mu.Lock()
	f.recordsAvailable = false
	f.doc.Phase = phaseSettled
	doc := f.doc.encode()
	snap := e.snapshotLocked(f)
	f.touch()
	e.mu.Unlock()
	e.p.Notifier.Update(snap)
	// Settled first: if the delete is cut short, the next start deletes instead of re-dispatching.
	if err := e.p.Store.Put(e.ctx, f.doc.UniqueID, doc, nil); err != nil {
		e.p.Logf("bgfetch: storing the end of %q: %v", f.doc.ID, err)
	}
	e.deleteData(f.doc.UniqueID)
}

func (e *Engine) deleteData(uniqueID string) {
	if err := e.p.Store.Delete(e.ctx, uniqueID); err != nil {
		e.p.Logf("bgfetch: deleting %s: %v", uniqueID, err)
	}
	e.mu.Lock()
	if f := e.fetches[uniqueID]; f != nil {
		delete(e.fetches, uniqueID)
		f.touch()
		f.cancel() // detaches its context from the engine's
	}
	e.mu.Unlock()
}
