package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds the engine's tunables.
type Config struct {
	SegmentSize      int           // the most body bytes stored as one segment
	FlushAfter       time.Duration // a segment this old is stored once it holds FlushAt bytes and no earlier one is being stored
	FlushAt          int           // bytes
	FlushBy          time.Duration // any partial segment is stored once it is this old
	ProgressInterval time.Duration // at most one progress update per fetch per interval
	MaxInFlight      int           // network requests in flight, all fetches together
	MaxLargeInFlight int           // of those, requests of fetches not known to have small bodies (below)
	MaxStreaming     int           // of those, bodies over WholeBody read at once (each holds up to two segments in JS)
	MaxAttempts      int           // tries of a GET request whose connection fails without progress
	RetryBackoff     time.Duration // first wait before a retry; doubles each time
	MaxBackoff       time.Duration // the longest wait before a retry
	StallTimeout     time.Duration // an attempt receiving nothing for this long is retried
	ResumeOverlap    int           // a resume asks again for this many stored bytes, which its 206 must repeat
	Window           int64         // a larger same-origin body that takes ranges is asked for this many bytes at a time (window.go); 0: in one piece
	// WholeBody: a record's first attempt lets the browser read a body declaring at most this many
	// bytes in one piece (no stream reads in JS; no chunk feeds the stall timeout until it ends).
	WholeBody int64
}

// DefaultConfig is what the browser build uses.
func DefaultConfig() Config {
	return Config{
		SegmentSize:      4 << 20,
		FlushAfter:       20 * time.Millisecond, // while storing keeps up, a segment holds 20 ms of bytes: a stop loses less
		FlushAt:          1 << 20,               // below 50 MiB/s, 1 MiB: at most ~50 writes a second
		FlushBy:          250 * time.Millisecond,
		ProgressInterval: 100 * time.Millisecond,
		MaxInFlight:      256, // most wait in the browser (6 connections per host): feeding its queue slowly costs Firefox CPU all along
		MaxLargeInFlight: 24,  // a queue of large bodies in the browser drains slowly: a later fetch waits behind it
		MaxStreaming:     6,
		MaxAttempts:      3,
		RetryBackoff:     500 * time.Millisecond,
		MaxBackoff:       8 * time.Second,
		StallTimeout:     30 * time.Second,
		ResumeOverlap:    4 << 10,
		Window:           16 << 20,  // what Firefox may hold of a body beyond what the worker has read
		WholeBody:        128 << 10, // under 4.4 KB/s for 30 s before a false stall, and then the retry streams
	}
}

// Engine owns the active background fetches of one service worker registration.
type Engine struct {
	p       Platform
	cfg     Config
	ctx     context.Context
	sched   *scheduler // network requests in flight, shared fairly between fetches
	large   *scheduler // of those, the requests of fetches whose last body was not small
	streams *scheduler // turns to read a large body
	// arrived is when the last response head or body bytes came, for requests still waiting for
	// their heads (watchdog).
	arrived atomic.Int64
	lost    atomic.Bool // StorageLost: nothing more is announced or dispatched

	mu      sync.Mutex
	active  map[string]*bgFetch // the active background fetches map, by id
	fetches map[string]*bgFetch // every fetch whose records are still held, by unique id
	seq     int64
	epoch   int64  // when this engine was made (ms): Snapshot.Epoch
	taken   uint64 // snapshots taken: Snapshot.Seq
}

// bgFetch is a background fetch held in memory.
type bgFetch struct {
	doc              *fetchDoc     // guarded by Engine.mu
	recordsAvailable bool          // guarded by Engine.mu
	changed          chan struct{} // closed and replaced on every change; guarded by Engine.mu
	bodies           map[int]any   // request bodies given to fetch(); nil after a restart
	buffered         int64         // bytes accepted but not yet stored, all records; guarded by Engine.mu
	small            atomic.Bool   // its last response declared a small body (Engine.small)
	unwindowed       map[int]bool  // records whose server answered a window with other bytes; guarded by Engine.mu
	ctx              context.Context
	cancel           context.CancelFunc
	progress         *throttle
	docMu            sync.Mutex // held while the fetch's own document is written: a stale one never lands last
}

// New creates an engine; Start must be called before use.
func New(p Platform, cfg Config) *Engine {
	if p.Logf == nil {
		p.Logf = func(string, ...any) {}
	}
	if p.Clock == nil {
		p.Clock = SystemClock{}
	}
	return &Engine{
		p: p, cfg: cfg, ctx: context.Background(),
		sched:   newScheduler(cfg.MaxInFlight),
		large:   newScheduler(cfg.MaxLargeInFlight),
		streams: newScheduler(cfg.MaxStreaming),
		active:  map[string]*bgFetch{},
		fetches: map[string]*bgFetch{},
		epoch:   p.Clock.Now().UnixMilli(),
	}
}

func (e *Engine) newFetch(doc *fetchDoc, bodies map[int]any) *bgFetch {
	f := &bgFetch{doc: doc, recordsAvailable: true, changed: make(chan struct{}), bodies: bodies, unwindowed: map[int]bool{}}
	f.ctx, f.cancel = context.WithCancel(e.ctx)
	f.progress = &throttle{e: e, f: f}
	return f
}

// touch wakes everyone waiting on a change of f; call with e.mu held.
func (f *bgFetch) touch() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// snapshotLocked copies what a registration instance shows; call with e.mu held.
func (e *Engine) snapshotLocked(f *bgFetch) Snapshot {
	d := f.doc
	e.taken++
	return Snapshot{
		Epoch: e.epoch, Seq: e.taken,
		UniqueID: d.UniqueID, ID: d.ID,
		UploadTotal: d.UploadTotal, Uploaded: d.uploaded(),
		DownloadTotal: d.Options.DownloadTotal, Downloaded: d.downloaded(),
		Result: d.Result, FailureReason: d.FailureReason,
		RecordsAvailable: f.recordsAvailable,
	}
}

func (e *Engine) snapshot(f *bgFetch) Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snapshotLocked(f)
}

// Start recovers what a previous run of the worker left: it resumes active fetches,
// dispatches completion events that were decided but not settled, and deletes the rest.
func (e *Engine) Start(ctx context.Context) error {
	e.ctx = ctx
	docs, err := e.p.Store.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading stored fetches: %w", err)
	}
	var resume, finish []*bgFetch
	live := map[string]bool{}
	fetches, dropped := decodeDocs(docs)
	for _, err := range dropped {
		e.p.Logf("bgfetch: dropping unreadable fetch: %v", err)
	}
	e.mu.Lock()
	for _, d := range fetches {
		e.seq = max(e.seq, d.Seq)
		switch d.Phase {
		case phaseActive, phaseAborted:
			f := e.newFetch(d, nil)
			e.fetches[d.UniqueID] = f
			if d.Phase == phaseActive {
				e.active[d.ID] = f
			} else {
				f.cancel() // abort() resolved true before the stop: it still gets its abort event
			}
			resume = append(resume, f)
		case phaseDecided:
			f := e.newFetch(d, nil)
			e.fetches[d.UniqueID] = f
			finish = append(finish, f)
		default:
			continue // settled: not live, so the sweep below deletes its data
		}
		live[d.UniqueID] = true
	}
	e.mu.Unlock()
	if err := e.p.Store.Sweep(ctx, live); err != nil {
		e.p.Logf("bgfetch: sweeping data of deleted fetches: %v", err)
	}
	for _, f := range resume {
		go e.perform(f)
	}
	for _, f := range finish {
		go e.redispatch(f)
	}
	return nil
}

// Fetch creates a background fetch and starts it (SPEC §3.1).
func (e *Engine) Fetch(ctx context.Context, id string, reqs []Request, bodies map[int]any, opts Options) (Snapshot, error) {
	if err := ValidateFetch(id, reqs); err != nil {
		return Snapshot{}, err
	}
	if opts.DownloadTotal > 0 && e.p.StorageAvailable != nil {
		if avail, ok := e.p.StorageAvailable(ctx); ok && opts.DownloadTotal > avail {
			return Snapshot{}, quotaExceeded("downloadTotal is larger than the storage available.")
		}
	}
	doc := &fetchDoc{Version: SchemaVersion, UniqueID: e.p.NewID(), ID: id, Options: opts, Phase: phaseActive}
	for _, r := range reqs {
		if r.Method == "" {
			r.Method = "GET"
		}
		doc.UploadTotal += uint64(r.BodySize)
		doc.Records = append(doc.Records, recordDoc{Request: r, Length: -1})
	}
	e.mu.Lock()
	if _, taken := e.active[id]; taken {
		e.mu.Unlock()
		return Snapshot{}, typeError("There already is a registration for the given id.")
	}
	e.seq++
	doc.Seq = e.seq
	f := e.newFetch(doc, bodies)
	e.active[id] = f // reserved now, so a racing fetch() with the same id is refused
	e.mu.Unlock()

	if err := e.p.Store.Create(ctx, doc.UniqueID, doc.encodeAll(), bodies); err != nil {
		e.mu.Lock()
		delete(e.active, id)
		e.mu.Unlock()
		f.cancel()
		if IsQuotaExceeded(err) { // SPEC §3.1: storing the registration needs space too
			return Snapshot{}, quotaExceeded("There is not enough storage to store the registration.")
		}
		return Snapshot{}, typeError("Failed to store registration: %v", err)
	}
	e.mu.Lock()
	e.fetches[doc.UniqueID] = f
	snap := e.snapshotLocked(f)
	e.mu.Unlock()
	go e.perform(f)
	return snap, nil
}

// Get returns the active fetch with this id (SPEC §3.5).
func (e *Engine) Get(id string) (Snapshot, bool, error) {
	if err := ValidateID(id); err != nil {
		return Snapshot{}, false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.active[id]
	if !ok || e.fetches[f.doc.UniqueID] != f {
		return Snapshot{}, false, nil
	}
	return e.snapshotLocked(f), true, nil
}

// Holds reports whether the engine holds the fetch uniqueID, active or not yet settled: a page's
// registration of one it does not hold gets no final update from it.
func (e *Engine) Holds(uniqueID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fetches[uniqueID] != nil
}

// IDs returns the ids of the active fetches in creation order.
func (e *Engine) IDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	fs := make([]*bgFetch, 0, len(e.active))
	for _, f := range e.active {
		if e.fetches[f.doc.UniqueID] == f {
			fs = append(fs, f)
		}
	}
	for i := 1; i < len(fs); i++ { // an insertion sort: sort.Slice (reflection's swapper) cost the module ~2 KB brotli
		for j := i; j > 0 && fs[j].doc.Seq < fs[j-1].doc.Seq; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.doc.ID
	}
	return ids
}

// Active reports how many fetches are still downloading or completing.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.fetches)
}

// Abort removes an active fetch and stops its requests (SPEC §3.6). The abort is stored before it
// answers true, so a worker stopped right after still ends the fetch with its abort event.
func (e *Engine) Abort(ctx context.Context, uniqueID string) bool {
	e.mu.Lock()
	f := e.fetches[uniqueID]
	if f == nil || e.active[f.doc.ID] != f {
		e.mu.Unlock()
		return false
	}
	delete(e.active, f.doc.ID)
	e.mu.Unlock()
	f.cancel()
	f.docMu.Lock()
	defer f.docMu.Unlock()
	e.mu.Lock()
	if f.doc.Phase != phaseActive { // decided meanwhile, as aborted: that document is newer
		e.mu.Unlock()
		return true
	}
	f.doc.Phase = phaseAborted
	doc := f.doc.encode()
	e.mu.Unlock()
	if err := e.p.Store.Put(ctx, f.doc.UniqueID, doc, nil); err != nil {
		e.p.Logf("bgfetch: storing the abort of %q: %v", f.doc.ID, err)
	}
	return true
}

// StorageLost gives the instances of every fetch that has not had its final update one that fails it
// with fetch-error (aborted, if abort() removed it), its records unavailable, as Chromium does when
// storage is wiped: the data is gone. No completion event follows; the engine is not used afterwards.
func (e *Engine) StorageLost() {
	e.lost.Store(true)
	e.mu.Lock()
	type last struct {
		f *bgFetch
		s Snapshot
	}
	lasts := make([]last, 0, len(e.fetches))
	for _, f := range e.fetches {
		s := e.snapshotLocked(f)
		s.Result, s.FailureReason, s.RecordsAvailable = ResultFailure, ReasonFetchError, false
		if f.doc.FailureReason == ReasonAborted || (f.doc.Result == "" && e.active[f.doc.ID] != f) {
			s.FailureReason = ReasonAborted // abort() came first
		}
		lasts = append(lasts, last{f, s})
	}
	e.mu.Unlock()
	for _, l := range lasts {
		l.f.progress.finalOnce(l.s)
	}
}

// segmentDue reports whether a segment of size bytes, begun age ago, is stored now. One due by
// FlushAfter waits while the previous segment is still being stored (idle false): when storing is
// what limits the speed, segments stay full and writes few; when the network is, they stay small,
// so a stop loses little. It is asked as each chunk arrives; while the network pauses, storeBody
// stores a held segment once it is FlushBy old.
func (c Config) segmentDue(size int, age time.Duration, idle bool) bool {
	return size >= c.SegmentSize || age >= c.FlushBy || (idle && age >= c.FlushAfter && size >= c.FlushAt)
}
