//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// The database, which js/55-io.js creates (version 2), has four object stores: "fetches" (uniqueId →
// fetch document, JSON text), "records" ([uniqueId, record] → record document), "bodies" ([uniqueId,
// record] → request body) and "segments" ([uniqueId, record, generation, seq] → Blob, or the bytes of
// a small body). The I/O helper reads and writes them; Go reads request bodies itself.
const storeBodies = "bodies"

// Store is core.Store over IndexedDB. Reads are one transaction each; writes are grouped:
// those that arrive while a write transaction runs commit together in the next one, so many
// fetches finishing at once cost a few transactions (~2 ms each) instead of one per write,
// and a document is put once per transaction however many of its writes it holds.
// A write transaction is one call to the I/O helper's commit (js/55-io.js), which builds it
// without waiting, so it cannot auto-commit half way.
type Store struct {
	db, io safejs.Value
	snap   *snapshot // what the shim read at open, until the first write or the sweep

	mu      sync.Mutex
	queue   []*write
	writing bool
	sinceGC int64 // segment bytes since the last collection
}

// snapshot is the stored data as the shim read it when the database opened (loadEngineData).
type snapshot struct {
	docs [][]byte
	ids  []string // every uniqueId a store holds data for
}

// write is one Create, Put or Delete waiting for its transaction.
type write struct {
	ctx      context.Context
	uniqueID string
	docs     []core.Doc // documents to store: only a batch's last one of each is put
	ops      []any      // its other writes, as the I/O helper's commit reads them (js/55-io.js writeOps)
	done     chan error
}

// The writes commit understands, each followed by its arguments.
const (
	opDocument = iota // uniqueId, JSON text
	opSegment         // uniqueId, record, generation, seq, small (core.Segment.Small), n, then n chunks
	opBody            // uniqueId, record, body
	opDelete          // uniqueId: the fetch with its records, bodies and segments
	opRecord          // uniqueId, record, JSON text
)

// OpenStore takes the database and what it holds from opened, a promise of what the I/O helper's
// load gives: the shim opens the database and reads it while the module compiles, so starting the
// engine costs no transaction. io is the shim's I/O helper (js/55-io.js).
func OpenStore(ctx context.Context, opened, io safejs.Value) (*Store, error) {
	v, err := Await(ctx, opened)
	if err != nil {
		return nil, err
	}
	db, snap, err := readSnapshot(v)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, io: io, snap: snap}, nil
}

// readSnapshot decodes [IDBDatabase, fetch documents, record documents, uniqueIds].
func readSnapshot(v safejs.Value) (db safejs.Value, snap *snapshot, err error) {
	if db, err = v.Index(0); err != nil {
		return db, nil, err
	}
	snap = &snapshot{}
	for i := 1; i <= 2; i++ {
		docs, err := v.Index(i)
		if err != nil {
			return db, nil, err
		}
		if err := eachString(docs, func(s string) { snap.docs = append(snap.docs, []byte(s)) }); err != nil {
			return db, nil, err
		}
	}
	ids, err := v.Index(3)
	if err != nil {
		return db, nil, err
	}
	err = eachString(ids, func(s string) { snap.ids = append(snap.ids, s) })
	return db, snap, err
}

// read returns the snapshot taken at open until the store writes or sweeps, else a new one.
func (s *Store) read(ctx context.Context) (*snapshot, error) {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap != nil {
		return snap, nil
	}
	p, err := s.io.Call("load", s.db)
	if err != nil {
		return nil, err
	}
	v, err := Await(ctx, p)
	if err != nil {
		return nil, err
	}
	_, snap, err = readSnapshot(v)
	return snap, err
}

// eachString calls f with each string of the JS array a.
func eachString(a safejs.Value, f func(string)) error {
	n, err := a.Length()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		v, err := a.Index(i)
		if err != nil {
			return err
		}
		s, err := v.String()
		if err != nil {
			return err
		}
		f(s)
	}
	return nil
}

// tx runs fill inside a new transaction and waits for it to commit.
func (s *Store) tx(ctx context.Context, mode string, fill func(stores map[string]safejs.Value) error, names ...string) error {
	list := make([]any, len(names))
	for i, n := range names {
		list[i] = n
	}
	t, err := s.db.Call("transaction", list, mode)
	if err != nil {
		return err
	}
	stores := map[string]safejs.Value{}
	for _, n := range names {
		stores[n], _ = t.Call("objectStore", n)
	}
	if err := fill(stores); err != nil {
		_, _ = t.Call("abort")
		return err
	}
	p, err := s.io.Call("transactionDone", t)
	if err != nil {
		return err
	}
	_, err = Await(ctx, p)
	return err
}

// write queues docs and ops for the next write transaction and waits until that transaction
// commits. A caller that gives up (ctx) while the write is still queued gets ctx's error and
// nothing is written; once its transaction has begun, it gets the transaction's own outcome, so a
// segment committed just as a fetch was aborted is never reported as not stored.
func (s *Store) write(ctx context.Context, uniqueID string, docs []core.Doc, ops ...any) error {
	w := &write{ctx: ctx, uniqueID: uniqueID, docs: docs, ops: ops, done: make(chan error, 1)}
	s.mu.Lock()
	s.snap = nil
	s.queue = append(s.queue, w)
	if !s.writing {
		s.writing = true
		go s.commitQueued()
	}
	s.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
	}
	s.mu.Lock()
	for i, q := range s.queue {
		if q == w {
			s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	s.mu.Unlock()
	return <-w.done
}

// commitQueued commits the queued writes, a batch per transaction, until the queue is empty.
func (s *Store) commitQueued() {
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		live := batch[:0]
		for _, w := range batch {
			if err := w.ctx.Err(); err != nil {
				w.done <- err // given up before it started: nothing written
			} else {
				live = append(live, w)
			}
		}
		err := s.commit(live)
		for _, w := range live {
			if err != nil && len(live) > 1 {
				w.done <- s.commit([]*write{w}) // the aborted batch wrote nothing: one failure must not fail the others
			} else {
				w.done <- err
			}
		}
	}
}

func (s *Store) commit(batch []*write) error {
	if len(batch) == 0 {
		return nil
	}
	type key struct {
		uniqueID string
		record   int
	}
	last := map[key]int{} // a document put later in the batch replaces the earlier ones
	for i, w := range batch {
		for _, d := range w.docs {
			last[key{w.uniqueID, d.Record}] = i
		}
	}
	args := []any{s.db}
	for i, w := range batch {
		for _, d := range w.docs {
			switch {
			case last[key{w.uniqueID, d.Record}] != i:
			case d.Record < 0:
				args = append(args, opDocument, w.uniqueID, string(d.JSON))
			default:
				args = append(args, opRecord, w.uniqueID, d.Record, string(d.JSON))
			}
		}
		args = append(args, w.ops...)
	}
	p, err := s.io.Call("commit", args...)
	if err != nil {
		return err
	}
	_, err = Await(context.Background(), p)
	return err
}

// Load implements core.Store.
func (s *Store) Load(ctx context.Context) ([][]byte, error) {
	snap, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	return snap.docs, nil
}

// Create implements core.Store.
func (s *Store) Create(ctx context.Context, uniqueID string, docs []core.Doc, bodies map[int]any) error {
	var ops []any
	for i, b := range bodies {
		ops = append(ops, opBody, uniqueID, i, b)
	}
	return s.write(ctx, uniqueID, docs, ops...)
}

// Put implements core.Store. A segment is stored as one Blob of its chunks, a small one as its bytes
// (core.Segment.Small): readers that hold it can still read it after the fetch's data is deleted
// (js/ pins settled records).
func (s *Store) Put(ctx context.Context, uniqueID string, doc core.Doc, seg *core.Segment) error {
	docs := []core.Doc{doc}
	if seg == nil {
		return s.write(ctx, uniqueID, docs)
	}
	s.collectAfter(seg.Chunks)
	ops := make([]any, 0, 7+len(seg.Chunks))
	ops = append(ops, opSegment, uniqueID, seg.Record, seg.Generation, seg.Seq, seg.Small, len(seg.Chunks))
	for _, c := range seg.Chunks {
		ops = append(ops, c.(Chunk).Value)
	}
	return s.write(ctx, uniqueID, docs, ops...)
}

// gcEvery is how many segment bytes pass between collections of the Go heap.
const gcEvery = 64 << 20

// collectAfter runs Go's GC every gcEvery bytes: a JS value held from Go (every chunk read, every
// awaited promise) is released only when Go collects it, and the small Go heap rarely triggers a
// collection by itself, so without this the worker's JS heap held ~350 MiB during a 1 GiB download.
func (s *Store) collectAfter(chunks []core.Chunk) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range chunks {
		s.sinceGC += int64(c.Len())
	}
	if s.sinceGC >= gcEvery {
		s.sinceGC = 0
		go runtime.GC()
	}
}

// Body implements core.Store.
func (s *Store) Body(ctx context.Context, uniqueID string, record int) (any, error) {
	var req safejs.Value
	err := s.tx(ctx, "readonly", func(st map[string]safejs.Value) (err error) {
		req, err = st[storeBodies].Call("get", []any{uniqueID, record})
		return err
	}, storeBodies)
	if err != nil {
		return nil, err
	}
	v, _ := req.Get("result")
	if v.IsUndefined() { // asked only for a request that has one: sent without it, the request would lie
		return nil, fmt.Errorf("the stored body of record %d is missing", record)
	}
	return v, nil
}

// Tail implements core.Store; the I/O helper reads the segments and slices them (js/55-io.js).
func (s *Store) Tail(ctx context.Context, uniqueID string, record, generation, last, n int) ([]byte, error) {
	p, err := s.io.Call("tail", s.db, []any{uniqueID, record, generation, last}, n)
	if err != nil {
		return nil, err
	}
	v, err := Await(ctx, p)
	if err != nil {
		return nil, err
	}
	size, err := v.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	_, err = safejs.CopyBytesToGo(b, v)
	return b, err
}

// Delete implements core.Store.
func (s *Store) Delete(ctx context.Context, uniqueID string) error {
	return s.write(ctx, uniqueID, nil, opDelete, uniqueID)
}

// Sweep implements core.Store: one write deleting the fetches not in live, found from the
// snapshot Load used (the engine sweeps before it writes) or a new read.
func (s *Store) Sweep(ctx context.Context, live map[string]bool) error {
	snap, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.snap = nil // the engine has started from it: later reads are new ones
	s.mu.Unlock()
	orphans := map[string]bool{}
	for _, uid := range snap.ids {
		if !live[uid] {
			orphans[uid] = true
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	ops := make([]any, 0, 2*len(orphans))
	for uid := range orphans {
		ops = append(ops, opDelete, uid)
	}
	return s.write(ctx, "", nil, ops...)
}
