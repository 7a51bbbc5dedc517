package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type bytesChunk []byte

func (c bytesChunk) Len() int { return len(c) }

// memStore keeps documents and segments in maps, like the IndexedDB schema.
type memStore struct {
	mu     sync.Mutex
	docs   map[string][]byte // "uid" for a fetch's document, "uid#record" for a record's
	bodies map[string]any
	segs   map[string][]byte // "uid/record/gen/seq"
	puts   int
	// failPut, when set, is the error of every Put that carries a segment.
	failPut    error
	failCreate error // when set, Create fails with it
	failTail   error // when set, Tail fails with it
	// holdSegments, when set, makes every Put that carries a segment wait until it is closed.
	holdSegments chan struct{}

	// onPut, when set, sees every Put that succeeds.
	onPut func(doc Doc, seg *Segment)
}

func newMemStore() *memStore {
	return &memStore{docs: map[string][]byte{}, bodies: map[string]any{}, segs: map[string][]byte{}}
}

func (s *memStore) Load(context.Context) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, d := range s.docs {
		out = append(out, d)
	}
	return out, nil
}

// docKey is where doc of fetch uid is kept.
func docKey(uid string, doc Doc) string {
	if doc.Record < 0 {
		return uid
	}
	return fmt.Sprintf("%s#%d", uid, doc.Record)
}

// seed stores every document of d, as a previous run of the worker left it.
func (s *memStore) seed(d *fetchDoc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, doc := range d.encodeAll() {
		s.docs[docKey(d.UniqueID, doc)] = doc.JSON
	}
}

func (s *memStore) Create(_ context.Context, uid string, docs []Doc, bodies map[int]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCreate != nil {
		return s.failCreate
	}
	for _, doc := range docs {
		s.docs[docKey(uid, doc)] = doc.JSON
	}
	for i, b := range bodies {
		s.bodies[fmt.Sprintf("%s/%d", uid, i)] = b
	}
	return nil
}

func (s *memStore) Put(_ context.Context, uid string, doc Doc, seg *Segment) error {
	s.mu.Lock()
	hold := s.holdSegments
	s.mu.Unlock()
	if hold != nil && seg != nil {
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg != nil && s.failPut != nil {
		return s.failPut
	}
	s.puts++
	if s.onPut != nil {
		s.onPut(doc, seg)
	}
	s.docs[docKey(uid, doc)] = doc.JSON
	if seg != nil {
		var b bytes.Buffer
		for _, c := range seg.Chunks {
			b.Write(c.(bytesChunk))
		}
		if seg.Seq == 0 { // a generation begun: the earlier ones go (Store.Put)
			for g := 0; g < seg.Generation; g++ {
				prefix := fmt.Sprintf("%s/%d/%d/", uid, seg.Record, g)
				for k := range s.segs {
					if strings.HasPrefix(k, prefix) {
						delete(s.segs, k)
					}
				}
			}
		}
		s.segs[fmt.Sprintf("%s/%d/%d/%d", uid, seg.Record, seg.Generation, seg.Seq)] = b.Bytes()
	}
	return nil
}

func (s *memStore) Body(_ context.Context, uid string, record int) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[fmt.Sprintf("%s/%d", uid, record)], nil
}

func (s *memStore) Tail(_ context.Context, uid string, record, generation, last, n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failTail != nil {
		return nil, s.failTail
	}
	if _, ok := s.segs[fmt.Sprintf("%s/%d/%d/%d", uid, record, generation, last)]; !ok {
		return nil, errors.New("no such segment")
	}
	var b []byte
	for seq := 0; seq <= last; seq++ {
		b = append(b, s.segs[fmt.Sprintf("%s/%d/%d/%d", uid, record, generation, seq)]...)
	}
	return b[max(0, len(b)-n):], nil
}

func (s *memStore) Delete(_ context.Context, uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs, uid)
	for k := range s.docs {
		if strings.HasPrefix(k, uid+"#") {
			delete(s.docs, k)
		}
	}
	s.drop(func(k string) bool { return strings.HasPrefix(k, uid+"/") })
	return nil
}

func (s *memStore) Sweep(_ context.Context, live map[string]bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop(func(k string) bool { uid, _, _ := strings.Cut(k, "/"); return !live[uid] })
	for k := range s.docs {
		if uid, _, _ := strings.Cut(k, "#"); !live[uid] {
			delete(s.docs, k)
		}
	}
	return nil
}

// drop deletes the bodies and segments whose key matches.
func (s *memStore) drop(match func(key string) bool) {
	for k := range s.segs {
		if match(k) {
			delete(s.segs, k)
		}
	}
	for k := range s.bodies {
		if match(k) {
			delete(s.bodies, k)
		}
	}
}

// body reassembles what is stored for a record, as a reader of segments would.
func (s *memStore) body(t *testing.T, uid string, record int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r recordDoc
	if err := json.Unmarshal(s.docs[fmt.Sprintf("%s#%d", uid, record)], &r); err != nil {
		t.Fatalf("record %d of %s: %v", record, uid, err)
	}
	var b bytes.Buffer
	for seq := 0; seq < r.Segments; seq++ {
		b.Write(s.segs[fmt.Sprintf("%s/%d/%d/%d", uid, record, r.Generation, seq)])
	}
	return b.Bytes()
}

// resource is one URL of the fake network.
type resource struct {
	status     int
	body       []byte
	etag       string
	noRange    bool
	failAfter  int // the first failAfter > 0 requests break after half the remaining body
	stall      int // the first stall > 0 requests go silent after half the remaining body
	refuse     bool
	gate       chan struct{}   // when set, the body waits on it before each chunk
	headGate   chan struct{}   // when set, the response head waits until it is closed
	ranges     bool            // it says it takes ranges (Accept-Ranges: bytes): its body is read in windows
	whole      int             // the first whole > 0 windows asked for (bounded ranges) bring the whole body
	skew       int64           // the first window asked for starts this many bytes late (its Content-Range says so)
	windowGate chan struct{}   // when set, the heads of windows (bounded ranges) wait until it is closed
	long       int             // the first window's body runs this many bytes past the range it names
	windowHead func(*Response) // when set, changes the head of each window (bounded range) answered
	refuse206  int             // the first refuse206 > 0 windows asked for fail as a refused connection
	extra      [][2]string     // more headers of every response
}

type fakeNet struct {
	mu     sync.Mutex
	res    map[string]*resource
	log    []string // "GET url range"
	wholes []int64  // each request's whole argument
	cuts   int      // bodies cancelled before their end
	chunk  int

	streaming, peakStreaming int // bodies of several chunks between their first read and their end
}

func (n *fakeNet) countStreaming(d int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.streaming += d
	n.peakStreaming = max(n.peakStreaming, n.streaming)
}

func (n *fakeNet) Fetch(ctx context.Context, req *Request, body any, rangeStart, rangeEnd int64, ifRange string, whole int64) (*Response, Body, error) {
	n.mu.Lock()
	r := n.res[req.URL]
	span := strconv.FormatInt(rangeStart, 10)
	if rangeEnd > 0 {
		span += "-" + strconv.FormatInt(rangeEnd, 10)
	}
	n.log = append(n.log, fmt.Sprintf("%s %s %s %s", req.Method, req.URL, span, ifRange))
	wholeWindow := r != nil && rangeEnd > 0 && r.whole > 0
	if wholeWindow {
		r.whole--
	}
	if r != nil && rangeEnd > 0 && r.skew > 0 {
		rangeStart, r.skew = rangeStart+r.skew, 0
	}
	n.wholes = append(n.wholes, whole)
	n.mu.Unlock()
	refuseWindow := r != nil && rangeEnd > 0 && r.refuse206 > 0
	if refuseWindow {
		r.refuse206--
	}
	if r == nil || r.refuse || refuseWindow {
		return nil, nil, errors.New("TypeError: Failed to fetch")
	}
	if r.windowGate != nil && rangeEnd > 0 {
		select {
		case <-r.windowGate:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	if r.headGate != nil {
		select {
		case <-r.headGate:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	resp := &Response{Status: r.status, StatusText: "x", URL: req.URL, Type: "basic",
		Headers: [][2]string{{"ETag", r.etag}, {"Content-Type", "application/octet-stream"}}}
	if r.ranges {
		resp.Headers = append(resp.Headers, [2]string{"Accept-Ranges", "bytes"})
	}
	resp.Headers = append(resp.Headers, r.extra...)
	data := r.body
	if wholeWindow {
		rangeStart = 0
	}
	if rangeStart >= int64(len(r.body)) && rangeStart > 0 && !r.noRange && (ifRange == "" || ifRange == r.etag) {
		resp.Status = 416 // as Go's http.ServeContent: nothing from rangeStart on
		resp.Headers = append(resp.Headers, [2]string{"Content-Range", fmt.Sprintf("bytes */%d", len(r.body))})
		return resp, &fakeBody{net: n, data: []byte("416"), limit: 3, chunk: 3}, nil
	}
	if rangeStart > 0 && !r.noRange && (ifRange == "" || ifRange == r.etag) {
		resp.Status = 206
		last := int64(len(r.body)) - 1
		if rangeEnd > 0 {
			last = min(last, rangeEnd)
		}
		resp.Headers = append(resp.Headers, [2]string{"Content-Range",
			fmt.Sprintf("bytes %d-%d/%d", rangeStart, last, len(r.body))})
		data = r.body[rangeStart : last+1]
		if rangeEnd > 0 && r.long > 0 {
			data = r.body[rangeStart:min(last+1+int64(r.long), int64(len(r.body)))]
			r.long = 0
		}
	} else {
		resp.Headers = append(resp.Headers, [2]string{"Content-Length", strconv.Itoa(len(r.body))})
	}
	limit, stall := len(data), false
	n.mu.Lock()
	if r.failAfter > 0 {
		r.failAfter--
		limit = len(data) / 2
	} else if r.stall > 0 {
		r.stall--
		limit, stall = len(data)/2, true
	}
	n.mu.Unlock()
	if rangeEnd > 0 && r.windowHead != nil {
		r.windowHead(resp)
	}
	b := &fakeBody{net: n, data: data, limit: limit, chunk: n.chunk, gate: r.gate, stall: stall}
	if int64(len(data)) <= whole { // as a browser reads a body whole: one chunk, or none before a failure
		b.chunk = len(data)
		if limit < len(data) {
			b.limit = 0
		}
	}
	return resp, b, nil
}

type fakeBody struct {
	net        *fakeNet
	reading    bool // counted in net.streaming
	data       []byte
	off, limit int
	chunk      int
	gate       chan struct{}
	stall      bool
	rest       bytesChunk // what a Skip read beyond its bytes
	cancelled  bool
}

func (b *fakeBody) Next(ctx context.Context) (c Chunk, err error) {
	if len(b.rest) > 0 {
		c, b.rest = b.rest, nil
		return c, nil
	}
	if !b.reading && b.chunk < len(b.data) { // again after a read its context interrupted
		b.reading = true
		b.net.countStreaming(1)
	}
	defer func() {
		if err != nil && b.reading {
			b.reading = false
			b.net.countStreaming(-1)
		}
	}()
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if b.off >= b.limit {
		if b.stall {
			<-ctx.Done() // silent until the reader gives up
			return nil, ctx.Err()
		}
		if b.limit < len(b.data) {
			return nil, errors.New("TypeError: network error")
		}
		return nil, io.EOF
	}
	end := min(b.off+b.chunk, b.limit)
	next := bytesChunk(b.data[b.off:end])
	b.off = end
	return next, nil
}

func (b *fakeBody) Skip(ctx context.Context, want []byte) (same bool, err error) {
	same, b.rest, err = skip(ctx, b.Next, want)
	return same, err
}

// Cancel counts a body cancelled before its end (fakeNet.cut).
func (b *fakeBody) Cancel() {
	if !b.cancelled && b.off < len(b.data) {
		b.net.mu.Lock()
		b.net.cuts++
		b.net.mu.Unlock()
	}
	b.cancelled = true
}

// skip implements Body.Skip over next: it also returns what the last chunk held beyond want.
func skip(ctx context.Context, next func(context.Context) (Chunk, error), want []byte) (bool, bytesChunk, error) {
	var got []byte
	for len(got) < len(want) {
		c, err := next(ctx)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return false, nil, err
		}
		got = append(got, c.(bytesChunk)...)
	}
	return bytes.Equal(got[:len(want)], want), got[len(want):], nil
}

// recorder is a Notifier that remembers every update and event in order.
type recorder struct {
	mu       sync.Mutex
	updates  []Snapshot
	events   []string // "update:<result>" and "event:<name>" interleaved
	dispatch chan Snapshot
	hold     chan struct{} // when set, Dispatch waits on it (an event with a pending waitUntil)
}

func newRecorder() *recorder { return &recorder{dispatch: make(chan Snapshot, 16)} }

func (r *recorder) Update(s Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, s)
	r.events = append(r.events, "update:"+s.Result)
}

// holdEvents makes the next events wait until the returned channel is closed.
func (r *recorder) holdEvents() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = make(chan struct{})
	return r.hold
}

func (r *recorder) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// dispatching reports whether an event has been dispatched (or is held).
func (r *recorder) dispatching() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if strings.HasPrefix(e, "event:") {
			return true
		}
	}
	return false
}

func (r *recorder) Sync(context.Context, string) {}

func (r *recorder) Dispatch(ctx context.Context, event string, s Snapshot) error {
	if event == "" { // nothing runs from an earlier engine here
		return nil
	}
	r.mu.Lock()
	r.events = append(r.events, "event:"+event)
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	r.dispatch <- s
	return nil
}

func (r *recorder) wait(t *testing.T) Snapshot {
	t.Helper()
	select {
	case s := <-r.dispatch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no completion event")
		return Snapshot{}
	}
}

func testConfig() Config {
	return Config{SegmentSize: 64 << 10, FlushAfter: time.Hour, FlushBy: time.Hour, ProgressInterval: time.Millisecond,
		MaxInFlight: 3, MaxLargeInFlight: 3, MaxStreaming: 3, MaxAttempts: 3, RetryBackoff: time.Millisecond,
		ResumeOverlap: overlap, Window: windowSize}
}

// windowSize is the tests' Config.Window: bodies of resources with ranges set are read in windows of it.
const windowSize = 1000

// overlap is how many stored bytes a resume asks for again in the tests (Config.ResumeOverlap).
const overlap = 10

type harness struct {
	e     *Engine
	store *memStore
	net   *fakeNet
	rec   *recorder
}

func newHarness(t *testing.T, store *memStore, net *fakeNet) *harness {
	t.Helper()
	return newHarnessWith(t, store, net, newRecorder())
}

// newHarnessWith starts the engine with rec, which may hold events already (a restart may
// dispatch before the test could hold them).
func newHarnessWith(t *testing.T, store *memStore, net *fakeNet, rec *recorder) *harness {
	t.Helper()
	return newHarnessConfig(t, store, net, rec, testConfig())
}

func newHarnessConfig(t *testing.T, store *memStore, net *fakeNet, rec *recorder, cfg Config) *harness {
	t.Helper()
	if store == nil {
		store = newMemStore()
	}
	if net == nil {
		net = &fakeNet{res: map[string]*resource{}, chunk: 10000}
	}
	h := &harness{store: store, net: net, rec: rec}
	var n int
	var mu sync.Mutex
	h.e = New(Platform{Store: store, Fetcher: net, Notifier: h.rec, NewID: func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("uid-%d-%d", time.Now().UnixNano(), n)
	}, Logf: t.Logf}, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

// fetchOne starts fetch "x" of url with its events held, and waits for it to end with want as its body.
func (h *harness) fetchOne(t *testing.T, url string, want []byte) Snapshot {
	t.Helper()
	hold := h.rec.holdEvents() // before the fetch, which may end at once
	s, err := h.e.Fetch(context.Background(), "x", []Request{get(url)}, nil, Options{})
	require.NoError(t, err)
	return h.waitWithBody(t, hold, s.UniqueID, want)
}

// waitWithBody waits for the completion event; while it is held (hold from rec.holdEvents), it
// checks that record 0 of uid stores want, before the data can be deleted.
func (h *harness) waitWithBody(t *testing.T, hold chan struct{}, uid string, want []byte) Snapshot {
	t.Helper()
	go func() {
		// Read once the event is being dispatched: the body is whole then, and held until hold closes.
		for deadline := time.Now().Add(10 * time.Second); !h.rec.dispatching() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		assert.Equal(t, want, h.store.body(t, uid, 0))
		close(hold)
	}()
	return h.rec.wait(t)
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func get(url string) Request { return Request{URL: url, Method: "GET", Mode: "cors"} }
