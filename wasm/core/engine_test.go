package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFetchSucceedsAndStoresEveryByteInSegments(t *testing.T) {
	h := newHarness(t, nil, nil)
	bodies := map[string][]byte{"https://a/1": pattern(1024, 1), "https://a/2": pattern(300<<10, 2), "https://a/3": pattern(200000, 3)}
	for u, b := range bodies {
		h.net.res[u] = &resource{status: 200, body: b, etag: `"e"`}
	}
	gate := make(chan struct{})
	h.net.res["https://a/3"].gate = gate // the fetch stays active until its id is checked
	hold := h.rec.holdEvents()           // hold the event open, as a waitUntil would
	snap, err := h.e.Fetch(context.Background(), "three", []Request{get("https://a/1"), get("https://a/2"), get("https://a/3")}, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, "three", snap.ID)
	assert.Equal(t, Snapshot{UniqueID: snap.UniqueID, ID: "three", RecordsAvailable: true, Epoch: snap.Epoch, Seq: snap.Seq}, snap)
	assert.Equal(t, []string{"three"}, h.e.IDs())
	close(gate)

	var during []RecordView
	go func() {
		require.Eventually(t, func() bool { _, ok, _ := h.e.Get("three"); return !ok }, 5*time.Second, time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		during, _ = h.e.MatchAll(snap.UniqueID, nil, QueryOptions{})
		for i, u := range []string{"https://a/1", "https://a/2", "https://a/3"} {
			assert.Equal(t, bodies[u], h.store.body(t, snap.UniqueID, i), u)
		}
		close(hold)
	}()
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, "", final.FailureReason)
	assert.True(t, final.RecordsAvailable)
	assert.EqualValues(t, 1024+300<<10+200000, final.Downloaded)
	require.Len(t, during, 3)
	assert.Equal(t, 200, during[1].Response.Status)
	assert.Greater(t, during[1].Segments, 4, "a 300 KiB body is stored in 64 KiB segments")

	// Progress never goes down, the last update before the event carries the result,
	// and records become unavailable after the event without a new result.
	require.Eventually(t, func() bool { return h.e.Active() == 0 }, 5*time.Second, time.Millisecond)
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	var last uint64
	for _, u := range h.rec.updates {
		assert.GreaterOrEqual(t, u.Downloaded, last)
		last = u.Downloaded
	}
	ev := h.rec.events
	require.GreaterOrEqual(t, len(ev), 3)
	assert.Equal(t, []string{"update:success", "event:backgroundfetchsuccess", "update:success"}, ev[len(ev)-3:])
	assert.False(t, h.rec.updates[len(h.rec.updates)-1].RecordsAvailable)
	_, err = h.e.MatchAll(snap.UniqueID, nil, QueryOptions{})
	assert.Equal(t, "InvalidStateError", err.(*Error).Name)
	assert.Empty(t, h.store.docs, "nothing stored after the event settles")
	assert.Empty(t, h.store.segs)
}

// A record's result goes into the write of its last segment: a record that fits in one segment
// costs one write while its fetch is active, and a stop after that write never refetches it.
func TestLastSegmentStoresTheRecordResult(t *testing.T) {
	store := newMemStore()
	var active []string // per write while the fetch is active: "segment <record> <result>" or "document"
	store.onPut = func(doc Doc, seg *Segment) {
		var d struct{ Phase, Result string }
		require.NoError(t, json.Unmarshal(doc.JSON, &d))
		switch {
		case doc.Record < 0 && d.Phase != phaseActive:
		case seg == nil:
			active = append(active, "document")
		default:
			assert.Equal(t, seg.Record, doc.Record, "a segment is stored with its record's document")
			active = append(active, fmt.Sprintf("segment %d %s", seg.Record, d.Result))
		}
	}
	h := newHarness(t, store, nil)
	h.net.res["https://a/ok"] = &resource{status: 200, body: pattern(1000, 1), etag: `"e"`}
	h.net.res["https://a/missing"] = &resource{status: 404, body: pattern(10, 2), etag: `"e"`}
	h.net.res["https://a/big"] = &resource{status: 200, body: pattern(100<<10, 3), etag: `"e"`} // two 64 KiB segments
	_, err := h.e.Fetch(context.Background(), "one-write", []Request{get("https://a/ok"), get("https://a/missing"), get("https://a/big")}, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, ReasonBadStatus, h.rec.wait(t).FailureReason)
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.ElementsMatch(t, []string{"segment 0 success", "segment 1 bad-status", "segment 2 ", "segment 2 success"}, active)
}

// What a record's segment is stored with does not grow with the number of records in its fetch.
func TestRecordWritesDoNotGrowWithTheFetch(t *testing.T) {
	written := func(n int) (perRecord int) {
		store := newMemStore()
		var bytes, writes int
		store.onPut = func(doc Doc, seg *Segment) {
			if seg != nil {
				bytes, writes = bytes+len(doc.JSON), writes+1
			}
		}
		h := newHarness(t, store, nil)
		var reqs []Request
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("https://a/%03d", i)
			h.net.res[u] = &resource{status: 200, body: pattern(100, byte(i)), etag: `"e"`}
			reqs = append(reqs, get(u))
		}
		_, err := h.e.Fetch(context.Background(), "many", reqs, nil, Options{})
		require.NoError(t, err)
		assert.Equal(t, ResultSuccess, h.rec.wait(t).Result)
		store.mu.Lock()
		defer store.mu.Unlock()
		require.Equal(t, n, writes, "one write per record")
		return bytes / writes
	}
	few, many := written(2), written(200)
	t.Logf("bytes of document per segment write: %d with 2 records, %d with 200", few, many)
	assert.InDelta(t, few, many, float64(few)/10)
}

func TestBadStatusIsStoredExposedAndFailsWithoutStoppingOthers(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/missing"] = &resource{status: 404, body: []byte("not here"), etag: `"n"`}
	h.net.res["https://a/ok"] = &resource{status: 200, body: pattern(100000, 9), etag: `"o"`}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "f", []Request{get("https://a/missing"), get("https://a/ok")}, nil, Options{})
	require.NoError(t, err)
	go func() {
		time.Sleep(50 * time.Millisecond)
		views, err := h.e.MatchAll(snap.UniqueID, &Request{URL: "https://a/missing#frag", Method: "GET"}, QueryOptions{})
		assert.NoError(t, err)
		if assert.Len(t, views, 1) {
			assert.Equal(t, 404, views[0].Response.Status)
			assert.Equal(t, ReasonBadStatus, views[0].Result)
			assert.True(t, views[0].Exposed, "a bad status is exposed")
		}
		assert.Equal(t, []byte("not here"), h.store.body(t, snap.UniqueID, 0))
		assert.Equal(t, pattern(100000, 9), h.store.body(t, snap.UniqueID, 1))
		close(hold)
	}()
	final := h.rec.wait(t)
	assert.Equal(t, ResultFailure, final.Result)
	assert.Equal(t, ReasonBadStatus, final.FailureReason)
	assert.EqualValues(t, 100008, final.Downloaded, "the 404 body is counted")
	assert.Contains(t, h.rec.eventList(), "event:backgroundfetchfail")
}

func TestNetworkErrorFailsWithFetchErrorAfterBoundedRetries(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/ok"] = &resource{status: 200, body: []byte("fine"), etag: `"o"`}
	_, err := h.e.Fetch(context.Background(), "f", []Request{get("https://a/refused"), get("https://a/ok")}, nil, Options{})
	require.NoError(t, err)
	final := h.rec.wait(t)
	assert.Equal(t, ReasonFetchError, final.FailureReason)
	assert.EqualValues(t, 4, final.Downloaded)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	refused := 0
	for _, l := range h.net.log {
		if strings.HasPrefix(l, "GET https://a/refused ") {
			refused++
		}
	}
	assert.Equal(t, 3, refused, "MaxAttempts tries")
}

func TestBrokenConnectionResumesWithRangeAndStoresEachByteOnce(t *testing.T) {
	h := newHarness(t, nil, nil)
	body := pattern(1<<20, 5)
	h.net.res["https://a/big"] = &resource{status: 200, body: body, etag: `"big"`, failAfter: 1}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "f", []Request{get("https://a/big")}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, snap.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 1<<20, final.Downloaded)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	require.Len(t, h.net.log, 2)
	assert.Equal(t, `GET https://a/big 524278 "big"`, h.net.log[1], "from the stored bytes, less the overlap")
}

func TestServerIgnoringRangeRestartsFromZero(t *testing.T) {
	h := newHarness(t, nil, nil)
	body := pattern(500000, 6)
	h.net.res["https://a/big"] = &resource{status: 200, body: body, etag: `"big"`, failAfter: 1, noRange: true}
	hold := h.rec.holdEvents()
	snap, _ := h.e.Fetch(context.Background(), "f", []Request{get("https://a/big")}, nil, Options{})
	final := h.waitWithBody(t, hold, snap.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 500000, final.Downloaded, "nothing counted twice")
}

// The network is read on while a segment is being stored, and the segments land in order.
func TestBodyIsReadWhileASegmentIsStored(t *testing.T) {
	store := newMemStore()
	store.holdSegments = make(chan struct{})
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	body := pattern(200000, 3)
	gate := make(chan struct{})
	net.res["https://a/f"] = &resource{status: 200, body: body, gate: gate}
	h := newHarness(t, store, net)
	s, err := h.e.Fetch(context.Background(), "overlap", []Request{get("https://a/f")}, nil, Options{})
	require.NoError(t, err)
	for i := 0; i < 7; i++ { // 70000 bytes: the first 64 KiB segment goes to the store, which holds it
		gate <- struct{}{}
	}
	for i := 0; i < 6; i++ {
		select {
		case gate <- struct{}{}:
		case <-time.After(2 * time.Second):
			t.Fatalf("chunk %d was not read while the first segment was being stored", 8+i)
		}
	}
	close(gate)
	hold := h.rec.holdEvents()
	close(store.holdSegments)
	final := h.waitWithBody(t, hold, s.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 200000, final.Downloaded)
}

func TestRestartResumesActiveFetchFromStoredBytes(t *testing.T) {
	store := newMemStore()
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	body := pattern(300000, 7)
	gate := make(chan struct{})
	net.res["https://a/big"] = &resource{status: 200, body: body, etag: `"v1"`, gate: gate}
	ctx, stop := context.WithCancel(context.Background())
	first := New(Platform{Store: store, Fetcher: net, Notifier: newRecorder(), NewID: func() string { return "u1" }}, testConfig())
	require.NoError(t, first.Start(ctx))
	_, err := first.Fetch(ctx, "resume", []Request{get("https://a/big")}, nil, Options{})
	require.NoError(t, err)
	for i := 0; i < 7; i++ { // 70000 bytes: one 64 KiB segment stored, the rest in flight
		gate <- struct{}{}
	}
	require.Eventually(t, func() bool { return len(store.body(t, "u1", 0)) == 65536+4464 || len(store.body(t, "u1", 0)) >= 65536 }, 5*time.Second, time.Millisecond)
	stop() // the worker stops
	time.Sleep(20 * time.Millisecond)

	later := make(chan struct{}) // the resumed body waits until the fetch is checked, or it could finish first
	net.res["https://a/big"].gate = later
	h := newHarness(t, store, net)
	s, ok, err := h.e.Get("resume")
	require.NoError(t, err)
	require.True(t, ok, "the active fetch is back after a restart")
	assert.GreaterOrEqual(t, s.Downloaded, uint64(65536))
	hold := h.rec.holdEvents()
	close(later)
	go func() {
		time.Sleep(50 * time.Millisecond)
		assert.Equal(t, body, store.body(t, "u1", 0))
		close(hold)
	}()
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 300000, final.Downloaded)
	net.mu.Lock()
	defer net.mu.Unlock()
	assert.Regexp(t, `^GET https://a/big [1-9]\d* "v1"$`, net.log[len(net.log)-1])
}

func TestDecidedFetchIsDispatchedOnceOnRestart(t *testing.T) {
	store := newMemStore()
	doc := &fetchDoc{Version: SchemaVersion, UniqueID: "u9", ID: "done", Phase: phaseDecided,
		Result: ResultSuccess, Records: []recordDoc{{Request: get("https://a/x"), Result: ResultSuccess, Length: -1}}}
	store.seed(doc)
	h := newHarness(t, store, nil)
	s := h.rec.wait(t)
	assert.Equal(t, "done", s.ID)
	assert.Equal(t, ResultSuccess, s.Result)
	require.Eventually(t, func() bool { return h.e.Active() == 0 }, 5*time.Second, time.Millisecond)
	assert.Empty(t, store.docs)
	_, ok, _ := h.e.Get("done")
	assert.False(t, ok)
	select {
	case <-h.rec.dispatch:
		t.Fatal("dispatched twice")
	case <-time.After(50 * time.Millisecond):
	}
}

// A handler that never finishes before the worker stops (its waitUntil cannot keep a real worker
// alive) is sent again at the next start, but not at every start for ever: after two more tries
// the fetch settles without its event and its data goes.
func TestACompletionCutShortIsSentAgainAtMostTwice(t *testing.T) {
	store := newMemStore()
	store.seed(&fetchDoc{Version: SchemaVersion, UniqueID: "u9", ID: "done", Phase: phaseDecided,
		Result: ResultSuccess, Records: []recordDoc{{Request: get("https://a/x"), Result: ResultSuccess, Length: -1}}})
	start := func() (*recorder, *stoppable, chan struct{}, context.CancelFunc) {
		rec := newRecorder()
		hold := rec.holdEvents()
		st := &stoppable{memStore: store}
		ctx, cancel := context.WithCancel(context.Background())
		e := New(Platform{Store: st, Fetcher: &fakeNet{res: map[string]*resource{}}, Notifier: rec, NewID: func() string { return "u1" }}, testConfig())
		require.NoError(t, e.Start(ctx))
		return rec, st, hold, cancel
	}
	for try := 1; try <= 2; try++ {
		rec, st, hold, stop := start()
		require.Eventually(t, rec.dispatching, 5*time.Second, time.Millisecond, "sent again at start %d", try)
		st.stop() // the worker stops while the handler runs
		stop()
		close(hold)
		store.mu.Lock()
		n := len(store.docs)
		store.mu.Unlock()
		assert.Equal(t, 2, n, "kept for the next start (the fetch and its record)")
	}
	rec, _, hold, stop := start()
	defer stop()
	defer close(hold)
	require.Eventually(t, func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.docs) == 0
	}, 5*time.Second, time.Millisecond, "the third start settles it")
	assert.False(t, rec.dispatching(), "without its event")
	assert.Contains(t, rec.eventList(), "update:success", "pages still hear that its records are gone")
}

func TestIDsAreUniqueAmongActiveFetchesEvenWhenRacing(t *testing.T) {
	h := newHarness(t, nil, nil)
	gate := make(chan struct{})
	h.net.res["https://a/slow"] = &resource{status: 200, body: []byte("x"), etag: `"s"`, gate: gate}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.e.Fetch(context.Background(), "same", []Request{get("https://a/slow")}, nil, Options{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else {
			assert.Equal(t, "TypeError", err.(*Error).Name)
		}
	}
	assert.Equal(t, 1, ok)
	close(gate)
	h.rec.wait(t)
	// Once completed, the id can be used again.
	require.Eventually(t, func() bool { return len(h.e.IDs()) == 0 }, 5*time.Second, time.Millisecond)
	h.net.res["https://a/slow"].gate = nil
	_, err := h.e.Fetch(context.Background(), "same", []Request{get("https://a/slow")}, nil, Options{})
	assert.NoError(t, err)
}

func TestAbortGivesAbortEventAndAbortedRecords(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/ok"] = &resource{status: 200, body: []byte("done"), etag: `"o"`}
	h.net.res["https://a/slow"] = &resource{status: 200, body: pattern(100, 1), etag: `"s"`, gate: make(chan struct{})}
	snap, err := h.e.Fetch(context.Background(), "ab", []Request{get("https://a/ok"), get("https://a/slow")}, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, _ := h.e.MatchAll(snap.UniqueID, nil, QueryOptions{})
		return v[0].Result == ResultSuccess
	}, 5*time.Second, time.Millisecond)
	assert.True(t, h.e.Abort(context.Background(), snap.UniqueID))
	assert.False(t, h.e.Abort(context.Background(), snap.UniqueID))
	assert.Empty(t, h.e.IDs())
	final := h.rec.wait(t)
	assert.Equal(t, ReasonAborted, final.FailureReason)
	assert.False(t, exposedResult(ReasonAborted), "aborted records reject responseReady")
	assert.False(t, exposedResult(ReasonFetchError))
	assert.Contains(t, h.rec.eventList(), "event:backgroundfetchabort")
}

func TestStorageLostEndsEveryFetchNotYetAnnounced(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/ok"] = &resource{status: 200, body: []byte("done"), etag: `"o"`}
	h.net.res["https://a/slow"] = &resource{status: 200, body: pattern(100, 1), etag: `"s"`, gate: make(chan struct{})}
	h.net.res["https://a/deciding"] = &resource{status: 200, body: []byte("x"), etag: `"d"`}
	done, err := h.e.Fetch(context.Background(), "done", []Request{get("https://a/ok")}, nil, Options{})
	require.NoError(t, err)
	require.Equal(t, ResultSuccess, h.rec.wait(t).Result)
	running, err := h.e.Fetch(context.Background(), "running", []Request{get("https://a/slow")}, nil, Options{})
	require.NoError(t, err)
	// A fetch whose result is decided but not yet announced: the write of its result is held.
	reached, release := make(chan struct{}), make(chan struct{})
	h.store.onPut = func(doc Doc, _ *Segment) {
		if doc.Record < 0 && bytes.Contains(doc.JSON, []byte(`"phase":"decided"`)) {
			close(reached)
			<-release
		}
	}
	deciding, err := h.e.Fetch(context.Background(), "deciding", []Request{get("https://a/deciding")}, nil, Options{})
	require.NoError(t, err)
	<-reached

	h.e.StorageLost()
	close(release)
	time.Sleep(50 * time.Millisecond) // what the held fetch would do next: nothing
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	lasts := map[string]Snapshot{}
	for _, u := range h.rec.updates {
		lasts[u.UniqueID] = u
	}
	for _, uid := range []string{running.UniqueID, deciding.UniqueID} {
		assert.Equal(t, ResultFailure, lasts[uid].Result, "the last update fails it")
		assert.Equal(t, ReasonFetchError, lasts[uid].FailureReason)
		assert.False(t, lasts[uid].RecordsAvailable, "its records are gone")
	}
	assert.Equal(t, ResultSuccess, lasts[done.UniqueID].Result, "a settled fetch keeps its result")
	assert.Equal(t, []string{"event:backgroundfetchsuccess"}, filterPrefix(h.rec.events, "event:"), "no event follows")
}

// filterPrefix returns the strings of list that begin with prefix.
func filterPrefix(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func TestValidation(t *testing.T) {
	h := newHarness(t, nil, nil)
	cases := map[string][]Request{
		"empty list":  {},
		"no-cors":     {{URL: "https://a/x", Mode: "no-cors"}},
		"scheme":      {{URL: "wss://a/x"}},
		"data scheme": {{URL: "data:text/plain,hi"}},
		"bad port":    {{URL: "https://a:587/x"}},
		"credentials": {{URL: "https://user:pass@a/x"}},
	}
	for name, reqs := range cases {
		_, err := h.e.Fetch(context.Background(), "v", reqs, nil, Options{})
		if assert.Error(t, err, name) {
			assert.Equal(t, "TypeError", err.(*Error).Name, name)
		}
	}
	_, err := h.e.Fetch(context.Background(), "", []Request{get("https://a/x")}, nil, Options{})
	assert.Equal(t, "TypeError", err.(*Error).Name)
	_, _, err = h.e.Get("")
	assert.Equal(t, "TypeError", err.(*Error).Name)
	for _, ok := range []string{"https://a:443/x", "http://127.0.0.1:8080/x", "https://a/x?q#f"} {
		assert.NoError(t, ValidateRequests([]Request{{URL: ok}}), ok)
	}
	assert.Empty(t, h.store.docs, "nothing stored for rejected fetches")
}

func TestMatchRules(t *testing.T) {
	rec := func(method, url string) *recordDoc { return &recordDoc{Request: Request{Method: method, URL: url}} }
	q := &Request{URL: "https://a/f.txt", Method: "GET"}
	assert.True(t, requestMatches(q, rec("GET", "https://a/f.txt#x"), QueryOptions{}))
	assert.False(t, requestMatches(q, rec("GET", "https://a/f.txt?id=3"), QueryOptions{}))
	assert.True(t, requestMatches(q, rec("GET", "https://a/f.txt?id=3"), QueryOptions{IgnoreSearch: true}))
	assert.False(t, requestMatches(q, rec("PUT", "https://a/f.txt"), QueryOptions{}))
	assert.True(t, requestMatches(q, rec("PUT", "https://a/f.txt"), QueryOptions{IgnoreMethod: true}))
	vary := rec("GET", "https://a/f.txt")
	vary.Request.Headers = [][2]string{{"Accept", "a"}}
	vary.Response = &Response{Headers: [][2]string{{"Vary", "Accept"}}}
	assert.False(t, requestMatches(q, vary, QueryOptions{}))
	assert.True(t, requestMatches(q, vary, QueryOptions{IgnoreVary: true}))
}

func TestParseContentRange(t *testing.T) {
	for in, want := range map[string][4]int64{
		"bytes 0-9/10":      {0, 9, 10, 1},
		"bytes 5-9/*":       {5, 9, -1, 1},
		"bytes 100-199/200": {100, 199, 200, 1},
		"bytes=0-9/10":      {0, 0, 0, 0},
		"bytes 9-5/10":      {0, 0, 0, 0},
		"bytes 0-10/10":     {0, 0, 0, 0},
		"":                  {0, 0, 0, 0},
	} {
		first, last, complete, ok := parseContentRange(in)
		assert.Equal(t, want[3] == 1, ok, in)
		if ok {
			assert.Equal(t, [3]int64{want[0], want[1], want[2]}, [3]int64{first, last, complete}, in)
		}
	}
}

func TestDocumentRoundTripAndVersion(t *testing.T) {
	d := &fetchDoc{Version: SchemaVersion, UniqueID: "u", ID: "i", Records: []recordDoc{{Request: get("https://a/")}}}
	back, dropped := decodeDocs(jsons(d.encodeAll()))
	require.Empty(t, dropped)
	assert.Equal(t, []*fetchDoc{d}, back)
	for _, doc := range d.encodeAll() { // another version of any one document drops the fetch
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc.JSON, &m))
		m["version"] = 99
		b, _ := json.Marshal(m)
		docs := jsons(d.encodeAll())
		docs[doc.Record+1] = b
		back, dropped := decodeDocs(docs)
		assert.Empty(t, back)
		assert.Len(t, dropped, 1)
	}
}

func jsons(docs []Doc) [][]byte {
	var out [][]byte
	for _, d := range docs {
		out = append(out, d.JSON)
	}
	return out
}

// The bad port list is searched by halves, so it must stay sorted.
func TestBadPorts(t *testing.T) {
	assert.True(t, slices.IsSorted(badPorts[:]))
	for _, p := range []int{0, 25, 587, 6667, 10080} {
		assert.True(t, badPort(p), "%d", p)
	}
	for _, p := range []int{80, 443, 8080, 10081, 65536 + 25, -1} {
		assert.False(t, badPort(p), "%d", p)
	}
}

// Snapshots are ordered: an answer to get() and the updates taken after it carry later Seqs of
// the same Epoch, so a realm that receives them out of order keeps the later one. The order
// itself is no change: a state already sent is not sent again.
func TestSnapshotsAreOrdered(t *testing.T) {
	h := newHarness(t, nil, nil)
	gate := make(chan struct{})
	h.net.res["https://a/1"] = &resource{status: 200, body: pattern(50000, 1), gate: gate}
	hold := h.rec.holdEvents()
	first, err := h.e.Fetch(context.Background(), "ordered", []Request{get("https://a/1")}, nil, Options{})
	require.NoError(t, err)
	// The fetch's first update (its response's head; the body waits at the gate) is taken before the
	// answer: wait for it, or it can be taken while Get runs.
	require.Eventually(t, func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		return len(h.rec.updates) > 0
	}, 5*time.Second, time.Millisecond)
	h.rec.mu.Lock()
	before := len(h.rec.updates)
	h.rec.mu.Unlock()
	answer, ok, err := h.e.Get("ordered")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, first.Epoch, answer.Epoch)
	assert.Greater(t, answer.Seq, first.Seq)
	close(gate)
	h.waitWithBody(t, hold, first.UniqueID, pattern(50000, 1))

	h.rec.mu.Lock()
	updates := append([]Snapshot(nil), h.rec.updates[before:]...)
	h.rec.mu.Unlock()
	require.NotEmpty(t, updates)
	last := answer
	for i, u := range updates {
		assert.Equal(t, answer.Epoch, u.Epoch)
		assert.Greater(t, u.Seq, last.Seq, "taken after the answer, in order")
		if i > 0 {
			u2, l2 := u, last
			u2.Seq, l2.Seq = 0, 0
			assert.NotEqual(t, l2, u2, "every update changes something")
		}
		last = u
	}

	later := New(Platform{Store: newMemStore(), Fetcher: h.net, Notifier: newRecorder(), NewID: func() string { return "x" }}, testConfig())
	time.Sleep(2 * time.Millisecond)
	again := New(Platform{Store: newMemStore(), Fetcher: h.net, Notifier: newRecorder(), NewID: func() string { return "y" }}, testConfig())
	assert.NotEqual(t, later.epoch, again.epoch, "another engine (a restarted worker) has another epoch")
}

// getIds() lists the active fetches in the order they were created, however many there are.
func TestIDsAreInCreationOrder(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.net.res["https://a/held"] = &resource{status: 200, body: pattern(100, 1), etag: `"e"`, gate: make(chan struct{})}
	var want []string
	for n := 0; n < 40; n++ {
		id := fmt.Sprintf("f%02d", (n*17)%40) // ids in no order of their own
		_, err := h.e.Fetch(context.Background(), id, []Request{get("https://a/held")}, nil, Options{})
		require.NoError(t, err)
		want = append(want, id)
	}
	assert.Equal(t, want, h.e.IDs())
}
