package core

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStalledConnectionIsRetriedFromTheStoredByte(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.e.cfg.StallTimeout = 30 * time.Millisecond
	body := pattern(400000, 8)
	h.net.res["https://a/slow"] = &resource{status: 200, body: body, etag: `"s"`, stall: 1}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "stall", []Request{get("https://a/slow")}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, snap.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 400000, final.Downloaded, "the bytes before the stall are kept, none counted twice")
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	require.Len(t, h.net.log, 2)
	assert.Equal(t, `GET https://a/slow 199990 "s"`, h.net.log[1], "the retry resumes where the stall began, less the overlap")
}

// A small body may be read whole by the browser, which shows no bytes until the end; once an
// attempt has failed, the record streams, so a slow but live connection feeds the stall timeout.
func TestASmallBodyIsReadWholeOnlyOnTheFirstAttempt(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.e.cfg.StallTimeout = 30 * time.Millisecond
	h.e.cfg.WholeBody = 1000
	body := pattern(800, 3)
	h.net.res["https://a/small"] = &resource{status: 200, body: body, etag: `"w"`, stall: 1}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "whole", []Request{get("https://a/small")}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, snap.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	h.net.mu.Lock()
	assert.Equal(t, []string{`GET https://a/small 0 `, `GET https://a/small 0 `}, h.net.log, "nothing was stored before the stall")
	assert.Equal(t, []int64{1000, 0}, h.net.wholes, "the retry streams")
	h.net.mu.Unlock()
}

// A request the browser holds back behind its connections to the host, busy with other downloads,
// shows nothing until its head comes: while other requests receive bytes, that wait is no stall.
func TestAWaitForTheHeadIsNoStallWhileOthersReceive(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.e.cfg.StallTimeout = 100 * time.Millisecond // ten chunks' time: a loaded machine's pauses do not stall the busy body
	busy := pattern(30*10000, 5)                  // 30 chunks, one every 10 ms: 300 ms of bytes
	queued := pattern(5000, 6)
	gate, head := make(chan struct{}), make(chan struct{})
	h.net.res["https://a/busy"] = &resource{status: 200, body: busy, etag: `"b"`, gate: gate}
	h.net.res["https://a/queued"] = &resource{status: 200, body: queued, etag: `"q"`, headGate: head}
	go func() {
		for range 30 {
			time.Sleep(10 * time.Millisecond)
			gate <- struct{}{}
		}
		close(gate)
		close(head) // the busy connection is free: the queued request is sent
	}()
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "queued", []Request{get("https://a/busy"), get("https://a/queued")}, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(h.rec.eventList(), "event:backgroundfetchsuccess") },
		5*time.Second, 5*time.Millisecond)
	assert.Equal(t, busy, h.store.body(t, snap.UniqueID, 0))
	assert.Equal(t, queued, h.store.body(t, snap.UniqueID, 1))
	close(hold)
	assert.Equal(t, ResultSuccess, h.rec.wait(t).Result)
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	assert.Len(t, h.net.log, 2, "no request was retried")
}

// A body that goes silent is a stall; so is a head that never comes while nothing else arrives.
func TestStallsWithoutEndFailWithFetchError(t *testing.T) {
	for name, res := range map[string]*resource{
		"body": {status: 200, body: pattern(1000, 1), etag: `"d"`, gate: make(chan struct{})},
		"head": {status: 200, body: pattern(1000, 1), etag: `"s"`, headGate: make(chan struct{})},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			h.e.cfg.StallTimeout = 20 * time.Millisecond
			h.net.res["https://a/dead"] = res
			_, err := h.e.Fetch(context.Background(), "dead", []Request{get("https://a/dead")}, nil, Options{})
			require.NoError(t, err)
			final := h.rec.wait(t)
			assert.Equal(t, ResultFailure, final.Result)
			assert.Equal(t, ReasonFetchError, final.FailureReason)
			h.net.mu.Lock()
			defer h.net.mu.Unlock()
			assert.Len(t, h.net.log, 3, "MaxAttempts tries, then it gives up")
		})
	}
}

func TestAttemptsThatMakeProgressAreNotCountedAsFailures(t *testing.T) {
	h := newHarness(t, nil, nil)
	body := pattern(1<<20, 9)
	// Five broken connections in a row, each after half of what is left: more than MaxAttempts,
	// but every one stores bytes.
	h.net.res["https://a/flaky"] = &resource{status: 200, body: body, etag: `"f"`, failAfter: 5}
	hold := h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), "flaky", []Request{get("https://a/flaky")}, nil, Options{})
	require.NoError(t, err)
	final := h.waitWithBody(t, hold, snap.UniqueID, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 1<<20, final.Downloaded)
}

func TestStartSweepsDataOfFetchesThatNoLongerExist(t *testing.T) {
	store := newMemStore()
	doc := &fetchDoc{Version: SchemaVersion, UniqueID: "live", ID: "live", Phase: phaseActive,
		Records: []recordDoc{{Request: get("https://a/live"), Length: -1, Stored: 3, Segments: 1}}}
	store.seed(doc)
	store.seed(&fetchDoc{Version: SchemaVersion, UniqueID: "done", ID: "done", Phase: phaseSettled, // its event settled
		Records: []recordDoc{{Request: get("https://a/done"), Length: 3, Stored: 3, Segments: 1}}})
	store.segs["done/0/0/0"] = []byte("old")
	store.docs["newer"] = []byte(`{"version":99,"uniqueId":"newer"}`) // a schema this engine cannot read: dropped with its data
	store.docs["newer#0"] = []byte(`{"version":99,"uniqueId":"newer","index":0}`)
	store.segs["newer/0/0/0"] = []byte("unreadable")
	store.segs["live/0/0/0"] = []byte("abc")
	store.segs["gone/0/0/0"] = []byte("orphan")
	store.segs["gone/1/2/3"] = []byte("orphan")
	store.bodies["gone/0"] = "request body"
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	net.res["https://a/live"] = &resource{status: 200, body: []byte("abcdef"), etag: `"l"`, gate: make(chan struct{})}
	newHarness(t, store, net)
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.Equal(t, map[string][]byte{"live/0/0/0": []byte("abc")}, store.segs, "only the live fetch's data is left")
	assert.Empty(t, store.bodies)
	assert.Len(t, store.docs, 2, "the unreadable and the settled fetches' documents are gone")
	assert.Contains(t, store.docs, "live")
	assert.Contains(t, store.docs, "live#0")
}

func TestSchedulerTakesTurnsBetweenFetches(t *testing.T) {
	s := newScheduler(1)
	ctx := context.Background()
	require.NoError(t, s.acquire(ctx, "a"))
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queue := func(fetch string, n int) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, s.acquire(ctx, fetch))
				mu.Lock()
				order = append(order, fetch)
				mu.Unlock()
				s.release()
			}()
			time.Sleep(5 * time.Millisecond) // arrival order is part of the test
		}
	}
	queue("a", 3) // fetch a queues three more requests before b asks for one
	queue("b", 1)
	s.release()
	wg.Wait()
	assert.Equal(t, []string{"a", "b", "a", "a"}, order, "b is served after one of a's, not after all of them")
}

func TestSchedulerBoundsRequestsInFlightAndSurvivesCancellation(t *testing.T) {
	s := newScheduler(3)
	var inFlight, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%4)*time.Millisecond)
			if i%4 == 0 {
				ctx, cancel = context.WithCancel(context.Background())
			}
			defer cancel()
			if s.acquire(ctx, fmt.Sprint("f", i%5)) != nil {
				return
			}
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-1)
			s.release()
		}(i)
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int32(3))
	// Every slot came back: three more can be taken at once without waiting.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		require.NoError(t, s.acquire(ctx, "after"))
	}
}

// Records waiting for a network slot have no goroutine yet: a fetch of 300 records, whose first
// requests hold every slot, adds a handful of goroutines, not one per record; all then complete.
func TestWaitingRecordsHoldNoGoroutine(t *testing.T) {
	h := newHarness(t, nil, nil)
	gate := make(chan struct{})
	var reqs []Request
	for i := 0; i < 300; i++ {
		url := fmt.Sprintf("https://a/wait/%d", i)
		h.net.res[url] = &resource{status: 200, body: pattern(100, byte(i)), etag: `"w"`, gate: gate}
		reqs = append(reqs, get(url))
	}
	before := runtime.NumGoroutine()
	_, err := h.e.Fetch(context.Background(), "many", reqs, nil, Options{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		h.net.mu.Lock()
		defer h.net.mu.Unlock()
		return len(h.net.log) == testConfig().MaxInFlight
	}, 5*time.Second, time.Millisecond, "the first requests take every slot")
	time.Sleep(20 * time.Millisecond) // time for any goroutine that would be started to start
	assert.Less(t, runtime.NumGoroutine()-before, 30)
	close(gate)
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 300*100, final.Downloaded)
}

func TestNonGETRequestRestartsFromScratchAfterAStop(t *testing.T) {
	store := newMemStore()
	post := Request{URL: "https://a/post", Method: "POST", Mode: "cors", HasBody: true, BodySize: 7}
	old := &Response{Status: 200, Headers: [][2]string{{"ETag", `"p"`}}}
	doc := &fetchDoc{Version: SchemaVersion, UniqueID: "p1", ID: "post", Phase: phaseActive, UploadTotal: 7,
		Records: []recordDoc{{Request: post, Response: old, Sent: true, Length: 6, Stored: 3, Segments: 1}}}
	store.seed(doc)
	store.segs["p1/0/0/0"] = []byte("abc")
	store.bodies["p1/0"] = "payload"
	net := &fakeNet{res: map[string]*resource{}, chunk: 10000}
	net.res["https://a/post"] = &resource{status: 200, body: []byte("ABCDEF"), etag: `"p"`}
	h := newHarness(t, store, net)
	final := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.EqualValues(t, 6, final.Downloaded, "the old bytes are discarded, not added to")
	assert.EqualValues(t, 7, final.Uploaded, "the body counts once")
	net.mu.Lock()
	assert.Equal(t, []string{"POST https://a/post 0 "}, net.log, "no Range for a POST")
	net.mu.Unlock()
}

// segmentSizes records the size of every segment store puts; it returns them so far, in order.
// gatedFetch starts fetch id of https://a/id, whose body waits on gate before each chunk; its
// completion event waits on hold (waitWithBody).
func (h *harness) gatedFetch(t *testing.T, id string, body []byte) (gate, hold chan struct{}, uniqueID string) {
	t.Helper()
	gate = make(chan struct{})
	h.net.res["https://a/"+id] = &resource{status: 200, body: body, etag: `"` + id + `"`, gate: gate}
	hold = h.rec.holdEvents()
	snap, err := h.e.Fetch(context.Background(), id, []Request{get("https://a/" + id)}, nil, Options{})
	require.NoError(t, err)
	return gate, hold, snap.UniqueID
}

func segmentSizes(store *memStore) func() []int {
	var mu sync.Mutex
	var sizes []int
	store.onPut = func(_ Doc, seg *Segment) {
		if seg == nil {
			return
		}
		n := 0
		for _, c := range seg.Chunks {
			n += c.Len()
		}
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), sizes...)
	}
}

// A segment is stored before it is full once it is FlushAfter old and holds FlushAt bytes, so a stop
// loses less; a smaller one waits for FlushAt bytes (or FlushBy), so a slow body is not many writes.
func TestSegmentIsStoredOnceOldAndLargeEnough(t *testing.T) {
	store := newMemStore()
	stored := segmentSizes(store)
	h := newHarness(t, store, nil) // chunks of 10,000 bytes, segments of 64 KiB
	h.e.cfg.FlushAfter, h.e.cfg.FlushAt = 200*time.Millisecond, 20000
	body := pattern(100000, 5)
	gate, hold, uid := h.gatedFetch(t, "paced", body)
	gate <- struct{}{}
	time.Sleep(300 * time.Millisecond) // old enough, but 10,000 bytes are under FlushAt
	gate <- struct{}{}                 // 20,000 bytes, older than FlushAfter: stored
	close(gate)                        // the rest at once: a full segment, then the end
	final := h.waitWithBody(t, hold, uid, body)
	assert.Equal(t, ResultSuccess, final.Result)
	assert.Equal(t, []int{20000, 70000, 10000}, stored())
}

// A segment due by its age alone is not stored while the one before it is still being stored: it
// keeps growing, so when storing is slower than the network, segments stay large and writes few.
func TestSegmentDueByAgeWaitsForThePreviousWrite(t *testing.T) {
	store := newMemStore()
	stored := segmentSizes(store)
	h := newHarness(t, store, nil)                 // chunks of 10,000 bytes, segments of 64 KiB
	h.e.cfg.FlushAfter, h.e.cfg.FlushAt = 0, 10000 // every chunk is due by age
	hold := make(chan struct{})
	store.mu.Lock()
	store.holdSegments = hold // the first segment's write waits
	store.mu.Unlock()
	body := pattern(100000, 9)
	gate, held, uid := h.gatedFetch(t, "slowdisk", body)
	chunk := func() {
		select {
		case gate <- struct{}{}:
		case <-time.After(5 * time.Second):
			close(hold)
			t.Fatal("the body is not read while a segment is being stored")
		}
	}
	chunk()       // 10,000 bytes: stored, and the write is held
	for range 4 { // the last send returns once the third has been taken while the write was held
		chunk() // due by age, but the first write has not finished: the segment grows
	}
	close(hold)
	close(gate) // the rest at once: the next segment holds at least what arrived during the write
	final := h.waitWithBody(t, held, uid, body)
	assert.Equal(t, ResultSuccess, final.Result)
	got := stored()
	require.GreaterOrEqual(t, len(got), 2)
	assert.Equal(t, 10000, got[0])
	assert.GreaterOrEqual(t, got[1], 40000, "the segment grew while the first was stored: %v", got)
}

// Only a body of at most WholeBody bytes stored whole, as one segment, is Small (the bridge stores it
// as bytes, not a Blob); every segment of a larger body stays a Blob, the last one too.
func TestOnlyAWholeSmallBodyIsSmall(t *testing.T) {
	store := newMemStore()
	var mu sync.Mutex
	small := map[int][]bool{} // by record
	store.onPut = func(_ Doc, seg *Segment) {
		if seg != nil {
			mu.Lock()
			small[seg.Record] = append(small[seg.Record], seg.Small)
			mu.Unlock()
		}
	}
	h := newHarness(t, store, nil) // chunks of 10,000 bytes, segments of 64 KiB
	h.e.cfg.WholeBody = 128 << 10
	h.net.res["https://a/small"] = &resource{status: 200, body: pattern(60000, 1), etag: `"s"`}
	h.net.res["https://a/large"] = &resource{status: 200, body: pattern(200000, 2), etag: `"l"`}
	_, err := h.e.Fetch(context.Background(), "mixed", []Request{get("https://a/small"), get("https://a/large")}, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, ResultSuccess, h.rec.wait(t).Result)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{true}, small[0], "the small body: one segment, Small")
	assert.Equal(t, []bool{false, false, false}, small[1], "the large body's segments, the short last one too")
}

// While the network pauses, the bytes in hand are stored once their segment is FlushBy old:
// progress counts them, and a stop during the pause would not fetch them again.
func TestHeldSegmentIsStoredWhileTheNetworkPauses(t *testing.T) {
	store := newMemStore()
	stored := segmentSizes(store)
	h := newHarness(t, store, nil) // chunks of 10,000 bytes, segments of 64 KiB
	h.e.cfg.FlushBy = 50 * time.Millisecond
	body := pattern(100000, 5)
	gate, held, uid := h.gatedFetch(t, "pause", body)
	for range 3 {
		gate <- struct{}{}
	}
	// 30,000 bytes arrived and the next read waits: no chunk comes to make the segment due.
	require.Eventually(t, func() bool { return slices.Equal(stored(), []int{30000}) }, 2*time.Second, 5*time.Millisecond,
		"the held bytes are stored during the pause: %v", stored())
	require.Eventually(t, func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		return len(h.rec.updates) > 0 && h.rec.updates[len(h.rec.updates)-1].Downloaded == 30000
	}, 2*time.Second, 5*time.Millisecond, "progress shows them")
	close(gate)
	final := h.waitWithBody(t, held, uid, body)
	assert.Equal(t, ResultSuccess, final.Result)
	total := 0
	for _, n := range stored() {
		total += n
	}
	assert.Equal(t, 100000, total, "no chunk lost or stored twice around the interrupted read")
}

func TestDefaultSegmentsFollowTheRate(t *testing.T) {
	c := DefaultConfig()
	const mib = 1 << 20
	for _, tc := range []struct {
		size int
		age  time.Duration
		idle bool // no earlier segment is still being stored
		due  bool
	}{
		{4 * mib, time.Millisecond, false, true},            // full
		{3*mib + mib/2, 19 * time.Millisecond, true, false}, // 180 MiB/s, not yet 20 ms old
		{5 * mib / 4, 20 * time.Millisecond, true, true},    // 64 MiB/s: 1.25 MiB segments
		{3 * mib, 30 * time.Millisecond, false, false},      // storing is slower than reading: it grows
		{mib - 1, 100 * time.Millisecond, true, false},      // under 50 MiB/s: 1 MiB each
		{mib, 100 * time.Millisecond, true, true},           //
		{100 << 10, 249 * time.Millisecond, true, false},
		{100 << 10, 250 * time.Millisecond, false, true}, // a slow body is stored four times a second
	} {
		assert.Equal(t, tc.due, c.segmentDue(tc.size, tc.age, tc.idle), "%d bytes after %v, idle %v", tc.size, tc.age, tc.idle)
	}
}
