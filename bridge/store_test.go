//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idbGet reads one value straight from IndexedDB, on a connection of its own.
var idbGet = jsFunc(`(name, store, key) => new Promise((resolve, reject) => {
	const open = indexedDB.open(name);
	open.onerror = () => reject(open.error);
	open.onsuccess = () => {
		const db = open.result;
		const req = db.transaction(store, 'readonly').objectStore(store).get(key);
		req.onsuccess = () => { db.close(); resolve(req.result); };
		req.onerror = () => { db.close(); reject(req.error); };
	};
})`)

// idbKeys lists the keys of a store as JSON text.
var idbKeys = jsFunc(`(name, store) => new Promise((resolve, reject) => {
	const open = indexedDB.open(name);
	open.onerror = () => reject(open.error);
	open.onsuccess = () => {
		const db = open.result;
		const req = db.transaction(store, 'readonly').objectStore(store).getAllKeys();
		req.onsuccess = () => { db.close(); resolve(JSON.stringify(req.result)); };
		req.onerror = () => { db.close(); reject(req.error); };
	};
})`)

// opening opens the database and reads it as the worker does (js/55-io.js).
func opening(name string) safejs.Value {
	p, err := safejs.MustGetGlobal("openEngineDatabase").Invoke(name)
	if err != nil {
		panic(err)
	}
	if p, err = p.Call("then", safejs.MustGetGlobal("loadEngineData")); err != nil {
		panic(err)
	}
	return p
}

func openTestStore(t *testing.T) (*Store, string) {
	t.Helper()
	name := uniqueName(t)
	s, err := OpenStore(testCtx(t), opening(name), testIO())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = s.db.Call("close")
		_, _ = safejs.MustGetGlobal("indexedDB").Call("deleteDatabase", name)
	})
	return s, name
}

func readIDB(t *testing.T, db, store string, key []any) safejs.Value {
	t.Helper()
	p, err := idbGet.Invoke(db, store, key)
	require.NoError(t, err)
	v, err := Await(testCtx(t), p)
	require.NoError(t, err)
	return v
}

func keysIDB(t *testing.T, db, store string) string {
	t.Helper()
	p, err := idbKeys.Invoke(db, store)
	require.NoError(t, err)
	v, err := Await(testCtx(t), p)
	require.NoError(t, err)
	s, _ := v.String()
	return s
}

func chunk(t *testing.T, b []byte) Chunk { return Chunk{Value: u8(t, b), N: len(b)} }

func TestStoreCreateLoadBody(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := testCtx(t)
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, docs)

	buf, err := safejs.MustGetGlobal("ArrayBuffer").New(4)
	require.NoError(t, err)
	view, _ := safejs.MustGetGlobal("Uint8Array").New(buf)
	_, _ = safejs.CopyBytesToJS(view, []byte{9, 8, 7, 6})
	bodies := map[int]any{0: buf, 2: u8(t, []byte("second body"))}
	require.NoError(t, s.Create(ctx, "u1", created(`{"id":"one"}`), bodies))

	docs, err = s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.JSONEq(t, `{"id":"one"}`, string(docs[0]))

	b, err := s.Body(ctx, "u1", 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{9, 8, 7, 6}, goBytes(t, b.(safejs.Value)))
	b, err = s.Body(ctx, "u1", 2)
	require.NoError(t, err)
	assert.Equal(t, "second body", string(goBytes(t, b.(safejs.Value))))
	_, err = s.Body(ctx, "u1", 1)
	assert.ErrorContains(t, err, "missing", "no body stored for record 1: the request is not sent without it")
}

func TestStorePutSegments(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	require.NoError(t, s.Create(ctx, "u1", created(`{"v":0}`), nil))

	a, b, c := pattern(0, 1000), pattern(1000, 1001), pattern(1001, 70000)
	seg := &core.Segment{Record: 1, Generation: 2, Seq: 3, Chunks: []core.Chunk{chunk(t, a), chunk(t, b), chunk(t, c)}}
	require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":1}`), seg))
	got := readIDB(t, db, "segments", []any{"u1", 1, 2, 3})
	assert.Equal(t, pattern(0, 70000), goBytes(t, got))

	// One chunk, a view into a larger buffer: only the view's bytes count.
	whole := u8(t, pattern(0, 100))
	part, err := whole.Call("subarray", 10, 30)
	require.NoError(t, err)
	seg = &core.Segment{Record: 0, Generation: 0, Seq: 0, Chunks: []core.Chunk{Chunk{Value: part, N: 20}}}
	require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":2}`), seg))
	assert.Equal(t, pattern(10, 30), goBytes(t, readIDB(t, db, "segments", []any{"u1", 0, 0, 0})))

	// A small segment (a whole small body: core.Segment.Small) is stored as its bytes, not as a Blob:
	// Firefox would make a file of it. Any other segment is a Blob, however short.
	isBlob := func(v safejs.Value) bool { ok, _ := v.InstanceOf(safejs.MustGetGlobal("Blob")); return ok }
	for i, c := range []struct {
		chunks []core.Chunk
		small  bool
		want   []byte
	}{
		{[]core.Chunk{chunk(t, pattern(0, 128<<10))}, true, pattern(0, 128<<10)}, // read whole: stored as is
		{[]core.Chunk{Chunk{Value: part, N: 20}, chunk(t, pattern(30, 40))}, true, append(pattern(10, 30), pattern(30, 40)...)},
		{[]core.Chunk{chunk(t, pattern(0, 128<<10+1))}, false, pattern(0, 128<<10+1)},
		{[]core.Chunk{chunk(t, pattern(0, 100))}, false, pattern(0, 100)},
	} {
		seg = &core.Segment{Record: 2, Seq: i, Chunks: c.chunks, Small: c.small}
		require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":2}`), seg))
		v := readIDB(t, db, "segments", []any{"u1", 2, 0, i})
		assert.Equal(t, !c.small, isBlob(v), "segment %d", i)
		assert.Equal(t, c.want, goBytes(t, v), "segment %d", i)
	}

	// Put without a segment only replaces the document.
	require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":3}`), nil))
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.JSONEq(t, `{"v":3}`, string(docs[0]))
	assert.Equal(t, `[["u1",0,0,0],["u1",1,2,3],["u1",2,0,0],["u1",2,0,1],["u1",2,0,2],["u1",2,0,3]]`, keysIDB(t, db, "segments"))
}

// The document and its segment go in one transaction: a segment that cannot be
// stored leaves the previous document in place.
func TestStorePutIsAtomic(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	require.NoError(t, s.Create(ctx, "u1", created(`{"v":0}`), nil))
	notBytes := jsFunc(`Symbol("not bytes")`) // a Blob cannot be made of it
	seg := &core.Segment{Chunks: []core.Chunk{Chunk{Value: notBytes, N: 1}}}
	require.Error(t, s.Put(ctx, "u1", fetchDoc(`{"v":1}`), seg))
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.JSONEq(t, `{"v":0}`, string(docs[0]))
	assert.Equal(t, `[]`, keysIDB(t, db, "segments"))
}

func TestStoreDelete(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	// "ab" has "a" as a prefix: deleting "a" must not touch it.
	for _, id := range []string{"a", "ab"} {
		require.NoError(t, s.Create(ctx, id, created(`"`+id+`"`), map[int]any{0: u8(t, []byte(id)), 3: u8(t, []byte("x"))}))
		for _, k := range [][3]int{{0, 0, 0}, {0, 0, 1}, {0, 1, 1}, {3, 0, 0}} {
			seg := &core.Segment{Record: k[0], Generation: k[1], Seq: k[2], Chunks: []core.Chunk{chunk(t, []byte(id))}}
			require.NoError(t, s.Put(ctx, id, fetchDoc(`"`+id+`"`), seg))
		}
	}
	require.NoError(t, s.Delete(ctx, "a"))

	docs, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.Equal(t, `"ab"`, string(docs[0]))
	assert.Equal(t, `[["ab",0],["ab",3]]`, keysIDB(t, db, "bodies"))
	assert.Equal(t, `[["ab",0,0,0],["ab",0,0,1],["ab",0,1,1],["ab",3,0,0]]`, keysIDB(t, db, "segments"))
	b, err := s.Body(ctx, "ab", 0)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(goBytes(t, b.(safejs.Value))))

	require.NoError(t, s.Delete(ctx, "ab"))
	assert.Equal(t, `[]`, keysIDB(t, db, "fetches"))
	assert.Equal(t, `[]`, keysIDB(t, db, "bodies"))
	assert.Equal(t, `[]`, keysIDB(t, db, "segments"))
	require.NoError(t, s.Delete(ctx, "never-stored"))
}

func TestStorePersistsAcrossOpens(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	require.NoError(t, s.Create(ctx, "u1", created(`{"v":1}`), map[int]any{0: u8(t, []byte("body"))}))
	seg := &core.Segment{Chunks: []core.Chunk{chunk(t, []byte("seg")), chunk(t, []byte("ment"))}}
	require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":2}`), seg))
	_, _ = s.db.Call("close")

	again, err := OpenStore(ctx, opening(db), testIO())
	require.NoError(t, err)
	defer func() { _, _ = again.db.Call("close") }()
	docs, err := again.Load(ctx)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.JSONEq(t, `{"v":2}`, string(docs[0]))
	b, err := again.Body(ctx, "u1", 0)
	require.NoError(t, err)
	assert.Equal(t, "body", string(goBytes(t, b.(safejs.Value))))
	assert.Equal(t, "segment", string(goBytes(t, readIDB(t, db, "segments", []any{"u1", 0, 0, 0}))))
}

// A request that fails inside a transaction fires error (bubbling to the
// transaction) before abort; transaction.error is still null in that first
// handler, so transactionDone (js/55-io.js) reports the request's error.
func TestStoreTxKeepsRequestError(t *testing.T) {
	s, _ := openTestStore(t)
	err := s.tx(testCtx(t), "readwrite", func(st map[string]safejs.Value) error {
		_, _ = st["fetches"].Call("add", "a", "k")
		_, _ = st["fetches"].Call("add", "b", "k") // ConstraintError, asynchronously
		return nil
	}, "fetches")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ConstraintError")
}

func TestStoreSweepKeepsOnlyLiveFetches(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	for _, id := range []string{"live", "gone", "gone2"} {
		require.NoError(t, s.Create(ctx, id, created(`"`+id+`"`), map[int]any{0: u8(t, []byte(id))}))
		seg := &core.Segment{Record: 0, Generation: 1, Seq: 2, Chunks: []core.Chunk{chunk(t, []byte(id))}}
		require.NoError(t, s.Put(ctx, id, core.Doc{Record: 0, JSON: []byte(`"` + id + `"`)}, seg))
	}
	require.NoError(t, s.Put(ctx, "bare", fetchDoc(`"unreadable"`), nil)) // a document alone goes too
	require.NoError(t, s.Put(ctx, "lost", core.Doc{Record: 3, JSON: []byte(`"no fetch"`)}, nil))
	require.NoError(t, s.Sweep(ctx, map[string]bool{"live": true}))
	assert.Equal(t, `["live"]`, keysIDB(t, db, "fetches"))
	assert.Equal(t, `[["live",0]]`, keysIDB(t, db, "records"))
	assert.Equal(t, `[["live",0]]`, keysIDB(t, db, "bodies"))
	assert.Equal(t, `[["live",0,1,2]]`, keysIDB(t, db, "segments"))
	require.NoError(t, s.Sweep(ctx, map[string]bool{"live": true}), "nothing left to sweep")
}

// The engine starts from what the shim read when the database opened: Load and Sweep cost no
// transaction until the store writes, and read anew after it has.
func TestStoreStartsFromTheReadAtOpen(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	for _, id := range []string{"live", "gone"} {
		require.NoError(t, s.Create(ctx, id, created(`"`+id+`"`), map[int]any{0: u8(t, []byte(id))}))
		seg := &core.Segment{Chunks: []core.Chunk{chunk(t, []byte(id))}}
		require.NoError(t, s.Put(ctx, id, core.Doc{Record: 0, JSON: []byte(`"` + id + `0"`)}, seg))
	}
	_, _ = s.db.Call("close")

	again, err := OpenStore(ctx, opening(db), testIO())
	require.NoError(t, err)
	defer func() { _, _ = again.db.Call("close") }()
	count, err := countTransactions.Invoke(again.db)
	require.NoError(t, err)
	transactions := func() int { n, _ := count.Invoke(); i, _ := n.Int(); return i }
	docs, err := again.Load(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{`"live"`, `"gone"`, `"live0"`, `"gone0"`}, strs(docs))
	assert.Zero(t, transactions(), "Load used the read made at open")

	require.NoError(t, again.Sweep(ctx, map[string]bool{"live": true}))
	assert.Equal(t, 1, transactions(), "only the write deleting what is not live")
	assert.Equal(t, `[["live",0,0,0]]`, keysIDB(t, db, "segments"))
	assert.Equal(t, `[["live",0]]`, keysIDB(t, db, "bodies"))

	docs, err = again.Load(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{`"live"`, `"live0"`}, strs(docs), "read anew after the write")
	assert.Equal(t, 2, transactions())
}

func strs(docs [][]byte) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = string(d)
	}
	return out
}

// A fetch's document and each record's are kept apart: a write replaces only its own, the last of a
// batch wins for each, and Load and Delete take them all.
func TestStoreRecordDocuments(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	rec := func(i int, text string) core.Doc { return core.Doc{Record: i, JSON: []byte(text)} }
	require.NoError(t, s.Create(ctx, "u1", []core.Doc{fetchDoc(`{"f":0}`), rec(0, `{"r0":0}`), rec(1, `{"r1":0}`)}, nil))
	seg := &core.Segment{Record: 1, Chunks: []core.Chunk{chunk(t, []byte("x"))}}
	require.NoError(t, s.Put(ctx, "u1", rec(1, `{"r1":1}`), seg))
	require.NoError(t, s.commit([]*write{
		{uniqueID: "u1", docs: []core.Doc{rec(0, `{"r0":1}`)}},
		{uniqueID: "u1", docs: []core.Doc{fetchDoc(`{"f":1}`)}},
		{uniqueID: "u1", docs: []core.Doc{rec(0, `{"r0":2}`)}},
	}))
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	var got []string
	for _, d := range docs {
		got = append(got, string(d))
	}
	assert.ElementsMatch(t, []string{`{"f":1}`, `{"r0":2}`, `{"r1":1}`}, got)
	assert.Equal(t, `[["u1",0],["u1",1]]`, keysIDB(t, db, "records"))
	require.NoError(t, s.Delete(ctx, "u1"))
	for _, store := range []string{"fetches", "records", "segments"} {
		assert.Equal(t, `[]`, keysIDB(t, db, store), store)
	}
}

// countTransactions makes db count the transactions opened on it; read the count with the returned func.
var countTransactions = jsFunc(`(db) => {
	const open = db.transaction.bind(db);
	let n = 0;
	db.transaction = (...args) => { n++; return open(...args); };
	return () => n;
}`)

// Writes that arrive together commit together, and one bad write does not fail the others.
func TestStoreGroupsConcurrentWrites(t *testing.T) {
	s, name := openTestStore(t)
	ctx := testCtx(t)
	count, err := countTransactions.Invoke(s.db)
	require.NoError(t, err)
	const n = 60
	writeAll := func(bad int) (failures []error) {
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				id := fmt.Sprintf("f%02d", i)
				if i == bad { // a function cannot be stored: DataCloneError
					fn, _ := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return nil })
					errs <- s.Create(ctx, id, created(`{}`), map[int]any{0: fn.Value()})
					return
				}
				seg := &core.Segment{Chunks: []core.Chunk{chunk(t, []byte{byte(i)})}}
				errs <- s.Put(ctx, id, fetchDoc(fmt.Sprintf(`{"n":%d}`, i)), seg)
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				failures = append(failures, err)
			}
		}
		return failures
	}
	assert.Empty(t, writeAll(-1))
	used, _ := count.Invoke()
	txs, _ := used.Int()
	t.Logf("%d writes in %d transactions", n, txs)
	assert.Less(t, txs, n/4, "concurrent writes share transactions")
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Len(t, docs, n)

	require.NoError(t, s.Delete(ctx, "f07"))
	failures := writeAll(7)
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0].Error(), "could not be cloned")
	assert.NotContains(t, keysIDB(t, name, "fetches"), `"f07"`)
	assert.Equal(t, []byte{42}, goBytes(t, readIDB(t, name, "segments", []any{"f42", 0, 0, 0})))
	docs, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Len(t, docs, n-1)
}

// countPuts counts IDBObjectStore.put calls by store name until the returned func restores put
// and returns the counts as JSON.
var countPuts = jsFunc(`() => {
	const put = IDBObjectStore.prototype.put;
	const n = {};
	IDBObjectStore.prototype.put = function (...args) { n[this.name] = (n[this.name] || 0) + 1; return put.apply(this, args); };
	return () => { IDBObjectStore.prototype.put = put; return JSON.stringify(n); };
}`)

// Writes of one fetch that share a transaction put its document once: the last one queued.
func TestStoreBatchPutsEachDocumentOnce(t *testing.T) {
	s, name := openTestStore(t)
	ctx := testCtx(t)
	s.mu.Lock()
	s.writing = true // as if a transaction were running: the writes below queue in order
	s.mu.Unlock()
	queued := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.queue)
	}
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		var seg *core.Segment
		if i < 3 {
			seg = &core.Segment{Seq: i, Chunks: []core.Chunk{chunk(t, []byte{byte(i)})}}
		}
		go func() { errs <- s.Put(ctx, "a", fetchDoc(fmt.Sprintf(`{"v":%d}`, i)), seg) }()
		require.Eventually(t, func() bool { return queued() == i+1 }, 5*time.Second, time.Millisecond)
	}
	stop, err := countPuts.Invoke()
	require.NoError(t, err)
	go s.commitQueued()
	for i := 0; i < 4; i++ {
		require.NoError(t, <-errs)
	}
	counts, _ := stop.Invoke()
	text, _ := counts.String()
	assert.JSONEq(t, `{"fetches":1,"segments":3}`, text)
	docs, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte(`{"v":3}`)}, docs)
	for i := 0; i < 3; i++ {
		assert.Equal(t, []byte{byte(i)}, goBytes(t, readIDB(t, name, "segments", []any{"a", 0, 0, i})))
	}
}

// fetchDoc is a fetch document with this JSON text.
func fetchDoc(text string) core.Doc { return core.Doc{Record: -1, JSON: []byte(text)} }

// created is a new fetch's documents: its own with this JSON text, and none for records.
func created(text string) []core.Doc { return []core.Doc{fetchDoc(text)} }

// A caller that gives up on a write whose transaction has begun learns its real outcome: the
// core counts a segment only if Put says it is stored, and this one is. One still queued behind
// it is dropped and reported as not written.
func TestStoreWriteGivenUpInFlightReportsItsCommit(t *testing.T) {
	s, db := openTestStore(t)
	require.NoError(t, s.Create(testCtx(t), "u1", created(`{"v":0}`), nil))
	flying, giveUp := context.WithCancel(testCtx(t))
	queued, dropQueued := context.WithCancel(testCtx(t))
	first, second := make(chan error, 1), make(chan error, 1)
	go func() {
		seg := &core.Segment{Seq: 0, Chunks: []core.Chunk{chunk(t, pattern(0, 4<<20))}}
		first <- s.Put(flying, "u1", fetchDoc(`{"v":1}`), seg)
	}()
	require.Eventually(t, func() bool { // the first write's transaction has begun
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.writing && len(s.queue) == 0
	}, 5*time.Second, time.Millisecond)
	go func() {
		seg := &core.Segment{Seq: 1, Chunks: []core.Chunk{chunk(t, pattern(0, 10))}}
		second <- s.Put(queued, "u1", fetchDoc(`{"v":2}`), seg)
	}()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.queue) == 1
	}, 5*time.Second, time.Millisecond)
	giveUp()
	dropQueued()
	assert.NoError(t, <-first, "the transaction had begun: it committed")
	assert.ErrorIs(t, <-second, context.Canceled, "still queued: dropped")
	assert.Equal(t, `[["u1",0,0,0]]`, keysIDB(t, db, "segments"))
	docs, err := s.Load(testCtx(t))
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.JSONEq(t, `{"v":1}`, string(docs[0]))
}

// A body begun again from zero (its first segment of a new generation) takes the place of the
// record's earlier generations in the same transaction; other records and the new generation stay.
func TestStoreNewGenerationDropsTheEarlierOnes(t *testing.T) {
	s, db := openTestStore(t)
	ctx := testCtx(t)
	require.NoError(t, s.Create(ctx, "u1", created(`{"v":0}`), nil))
	put := func(record, generation, seq int) {
		seg := &core.Segment{Record: record, Generation: generation, Seq: seq, Chunks: []core.Chunk{chunk(t, []byte{byte(seq)})}}
		require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{}`), seg))
	}
	put(0, 0, 0)
	put(0, 0, 1)
	put(1, 0, 0)
	put(0, 1, 0) // record 0 begins again: generation 0 goes
	put(0, 1, 1)
	assert.Equal(t, `[["u1",0,1,0],["u1",0,1,1],["u1",1,0,0]]`, keysIDB(t, db, "segments"))
	put(0, 3, 0) // a generation that stored nothing (2) is skipped over
	assert.Equal(t, `[["u1",0,3,0],["u1",1,0,0]]`, keysIDB(t, db, "segments"))
}

// Tail reads back the last bytes of a record's stored segments, Blobs or a small body's bytes, for a
// resume to ask for again.
func TestStoreTail(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := testCtx(t)
	require.NoError(t, s.Create(ctx, "u1", created(`{"v":0}`), nil))
	segs := []*core.Segment{
		{Record: 0, Generation: 1, Seq: 0, Chunks: []core.Chunk{chunk(t, pattern(0, 70000)), chunk(t, pattern(70000, 70010))}},
		{Record: 0, Generation: 1, Seq: 1, Chunks: []core.Chunk{chunk(t, pattern(70010, 70020))}},
		{Record: 1, Chunks: []core.Chunk{chunk(t, pattern(0, 50))}, Small: true},
		{Record: 0, Generation: 0, Seq: 0, Chunks: []core.Chunk{chunk(t, pattern(5, 9))}}, // another generation's, put last to stay
	}
	for _, seg := range segs {
		require.NoError(t, s.Put(ctx, "u1", fetchDoc(`{"v":1}`), seg))
	}
	tail, err := s.Tail(ctx, "u1", 0, 1, 0, 4096)
	require.NoError(t, err)
	assert.Equal(t, pattern(70010-4096, 70010), tail, "a Blob's last bytes")
	tail, err = s.Tail(ctx, "u1", 0, 1, 1, 4096)
	require.NoError(t, err)
	assert.Equal(t, pattern(70020-4096, 70020), tail, "across a short last segment")
	tail, err = s.Tail(ctx, "u1", 0, 1, 1, 100000)
	require.NoError(t, err)
	assert.Equal(t, pattern(0, 70020), tail, "the generation's bytes alone, when fewer than asked")
	tail, err = s.Tail(ctx, "u1", 1, 0, 0, 4096)
	require.NoError(t, err)
	assert.Equal(t, pattern(0, 50), tail, "a small body's bytes")
	_, err = s.Tail(ctx, "u1", 0, 1, 2, 4096)
	assert.Error(t, err, "no such segment")
}
