//go:build js && wasm

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeHost is the shim's host object: it records updates and events, and holds
// each event's promise until the test releases it.
type fakeHost struct {
	obj     safejs.Value
	mu      sync.Mutex
	updates []core.Snapshot
	events  chan hostEvent
	logs    []string
}

type hostEvent struct {
	typ     string
	snap    core.Snapshot
	updates []core.Snapshot // updates seen before the event
	release func()          // settles the promise dispatch returned
}

var deferred = jsFunc(`() => { let resolve; const p = new Promise((r) => { resolve = r; }); return [p, resolve]; }`)

func snapshotOf(v safejs.Value) core.Snapshot {
	text, _ := safejs.MustGetGlobal("JSON").Call("stringify", v)
	s, _ := text.String()
	var snap core.Snapshot
	_ = json.Unmarshal([]byte(s), &snap)
	return snap
}

func newFakeHost(t *testing.T) *fakeHost {
	h := &fakeHost{events: make(chan hostEvent, 8)}
	h.obj, _ = safejs.MustGetGlobal("Object").New()
	update, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		h.mu.Lock()
		h.updates = append(h.updates, snapshotOf(arg(args, 0)))
		h.mu.Unlock()
		return nil
	})
	dispatch, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		typ, _ := arg(args, 0).String()
		pair, _ := deferred.Invoke()
		p, _ := pair.Index(0)
		resolve, _ := pair.Index(1)
		h.mu.Lock()
		seen := append([]core.Snapshot(nil), h.updates...)
		h.mu.Unlock()
		h.events <- hostEvent{typ: typ, snap: snapshotOf(arg(args, 1)), updates: seen,
			release: func() { _, _ = resolve.Invoke() }}
		return p
	})
	t.Cleanup(func() { update.Release(); dispatch.Release() })
	require.NoError(t, h.obj.Set("update", update.Value()))
	require.NoError(t, h.obj.Set("dispatch", dispatch.Value()))
	return h
}

func (h *fakeHost) snapshots() []core.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]core.Snapshot(nil), h.updates...)
}

func (h *fakeHost) event(t *testing.T) hostEvent {
	t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event dispatched")
		return hostEvent{}
	}
}

type apiEnv struct {
	api  *API
	host *fakeHost
	db   string
}

func newAPI(t *testing.T) *apiEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, db := openTestStore(t)
	h := newFakeHost(t)
	notifier, err := NewNotifier(h.obj, testIO(), uniqueName(t))
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.SegmentSize = 1 << 20
	cfg.FlushBy = 50 * time.Millisecond
	cfg.ProgressInterval = 20 * time.Millisecond
	cfg.RetryBackoff = 50 * time.Millisecond
	n := 0
	engine := core.New(core.Platform{
		Store: store, Fetcher: NewFetcher(testIO()), Notifier: notifier,
		NewID: func() string { n++; return fmt.Sprintf("uid-%d", n) },
		Logf: func(format string, args ...any) {
			h.mu.Lock()
			h.logs = append(h.logs, fmt.Sprintf(format, args...))
			h.mu.Unlock()
		},
	}, cfg)
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		cancel()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, l := range h.logs {
			t.Log("engine: " + l)
		}
	})
	return &apiEnv{api: &API{Engine: engine, DB: db}, host: h, db: db}
}

func (e *apiEnv) call(t *testing.T, op string, args any, bodies safejs.Value) (any, error) {
	t.Helper()
	if m, ok := args.(map[string]any); ok {
		if reqs, ok := m["requests"].([]core.Request); ok { // written by the codec the shim's format follows
			arr := []byte{'['}
			for i := range reqs {
				if i > 0 {
					arr = append(arr, ',')
				}
				arr = reqs[i].AppendJSON(arr)
			}
			m["requests"] = json.RawMessage(append(arr, ']'))
		}
	}
	b, err := json.Marshal(args)
	require.NoError(t, err)
	return e.api.Call(testCtx(t), op, b, bodies)
}

// idle waits until the engine has deleted every fetch.
func (e *apiEnv) idle(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, err := e.call(t, "ping", struct{}{}, safejs.Null())
		return err == nil && out.(Active) == 0
	}, 10*time.Second, 10*time.Millisecond)
}

func gets(urls ...string) []core.Request {
	reqs := make([]core.Request, len(urls))
	for i, u := range urls {
		reqs[i] = core.Request{URL: u, Method: "GET"}
	}
	return reqs
}

// segments joins the stored segments of a record view (what js/ reads).
func (e *apiEnv) segments(t *testing.T, v core.RecordView) []byte {
	var out []byte
	for seq := 0; seq < v.Segments; seq++ {
		out = append(out, goBytes(t, readIDB(t, e.db, "segments", []any{v.UniqueID, v.Index, v.Generation, seq}))...)
	}
	return out
}

func TestAPIFetchSuccess(t *testing.T) {
	e := newAPI(t)
	o := origin(t)
	out, err := e.call(t, "fetch", map[string]any{"id": "two", "requests": gets(o+"/bytes?n=1000", o+"/bytes?n=2500000")}, safejs.Null())
	require.NoError(t, err)
	snap := out.(core.Snapshot)
	assert.Equal(t, "two", snap.ID)
	require.NotEmpty(t, snap.UniqueID)
	assert.Empty(t, snap.Result)
	assert.True(t, snap.RecordsAvailable)

	ev := e.host.event(t)
	assert.Equal(t, "backgroundfetchsuccess", ev.typ)
	assert.Equal(t, uint64(2501000), ev.snap.Downloaded)
	assert.Equal(t, core.ResultSuccess, ev.snap.Result)
	assert.Equal(t, snap.UniqueID, ev.snap.UniqueID)
	require.NotEmpty(t, ev.updates)
	for i := 1; i < len(ev.updates); i++ {
		assert.GreaterOrEqual(t, ev.updates[i].Downloaded, ev.updates[i-1].Downloaded, "update %d", i)
	}
	last := ev.updates[len(ev.updates)-1]
	assert.Equal(t, core.ResultSuccess, last.Result)
	assert.Equal(t, uint64(2501000), last.Downloaded)

	// While the event is active the records are readable from IndexedDB.
	ids, err := e.call(t, "getIds", struct{}{}, safejs.Null())
	require.NoError(t, err)
	assert.Empty(t, ids)
	out, err = e.call(t, "matchAll", map[string]any{"uniqueId": snap.UniqueID}, safejs.Null())
	require.NoError(t, err)
	m := out.(Matched)
	assert.Equal(t, e.db, m.DB)
	views := m.Records
	require.Len(t, views, 2)
	assert.Equal(t, pattern(0, 1000), e.segments(t, views[0]))
	assert.Greater(t, views[1].Segments, 1)
	assert.Equal(t, pattern(0, 2500000), e.segments(t, views[1]))

	ev.release()
	e.idle(t)
	_, err = e.call(t, "matchAll", map[string]any{"uniqueId": snap.UniqueID}, safejs.Null())
	var ce *core.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "InvalidStateError", ce.Name)
	final := e.host.snapshots()
	assert.False(t, final[len(final)-1].RecordsAvailable)
	assert.Equal(t, "[]", keysIDB(t, e.db, "fetches"))
	assert.Equal(t, "[]", keysIDB(t, e.db, "segments"))
}

func TestAPIFetchInvalid(t *testing.T) {
	e := newAPI(t)
	_, err := e.call(t, "fetch", map[string]any{"id": "", "requests": gets(origin(t) + "/bytes?n=1")}, safejs.Null())
	var ce *core.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "TypeError", ce.Name)
	_, err = e.api.Call(testCtx(t), "nope", []byte(`{}`), safejs.Null())
	assert.Error(t, err)
	_, err = e.api.Call(testCtx(t), "fetch", []byte(`not json`), safejs.Null())
	assert.Error(t, err)
}

func TestAPIFetchBadStatus(t *testing.T) {
	e := newAPI(t)
	o := origin(t)
	_, err := e.call(t, "fetch", map[string]any{"id": "bad", "requests": gets(o+"/bytes?n=10", o+"/status/404")}, safejs.Null())
	require.NoError(t, err)
	ev := e.host.event(t)
	assert.Equal(t, "backgroundfetchfail", ev.typ)
	assert.Equal(t, core.ResultFailure, ev.snap.Result)
	assert.Equal(t, core.ReasonBadStatus, ev.snap.FailureReason)
	ev.release()
	e.idle(t)
}

// A request body given to fetch (the shim passes one slot per request) is sent.
func TestAPIFetchWithBody(t *testing.T) {
	e := newAPI(t)
	o := origin(t)
	reqs := []core.Request{{URL: o + "/bytes?n=5", Method: "GET"},
		{URL: o + "/echo", Method: "POST", HasBody: true, BodySize: 9}}
	bodies, err := safejs.MustGetGlobal("Array").Call("of", safejs.Null(), u8(t, []byte("post body")))
	require.NoError(t, err)
	out, err := e.call(t, "fetch", map[string]any{"id": "post", "requests": reqs}, bodies)
	require.NoError(t, err)
	assert.Equal(t, uint64(9), out.(core.Snapshot).UploadTotal)
	ev := e.host.event(t)
	assert.Equal(t, "backgroundfetchsuccess", ev.typ)
	// The stored body is what a record's request is rebuilt from.
	stored := readIDB(t, e.db, "bodies", []any{ev.snap.UniqueID, 1})
	assert.Equal(t, "post body", string(goBytes(t, stored)))
	out, err = e.call(t, "matchAll", map[string]any{"uniqueId": ev.snap.UniqueID}, safejs.Null())
	require.NoError(t, err)
	var echo struct{ Method, Body string }
	require.NoError(t, json.Unmarshal(e.segments(t, out.(Matched).Records[1]), &echo))
	assert.Equal(t, "POST", echo.Method)
	assert.Equal(t, "post body", echo.Body)
	ev.release()
	e.idle(t)
}

// Install exposes Call as host.call(op, argsJSON, bodies) → Promise of plain JS data.
func TestAPIInstall(t *testing.T) {
	e := newAPI(t)
	require.NoError(t, e.api.Install(testCtx(t), e.host.obj))
	call := func(op, args string) settled {
		p, err := e.host.obj.Call("call", op, args, safejs.Null())
		require.NoError(t, err)
		return settle(t, p, 10*time.Second)
	}
	s := call("getIds", `{}`)
	require.False(t, s.rejected)
	isArray, _ := safejs.MustGetGlobal("Array").Call("isArray", s.value)
	assert.True(t, truthy(isArray))
	s = call("get", `{"id":"none"}`)
	require.False(t, s.rejected)
	assert.True(t, s.value.IsNull())
	s = call("fetch", `{"id":"","requests":[]}`)
	require.True(t, s.rejected)
	assert.Equal(t, "TypeError", prop(t, s.value, "name"))
	s = call("matchAll", `{"uniqueId":"unknown"}`)
	require.True(t, s.rejected)
	assert.Equal(t, "InvalidStateError", prop(t, s.value, "name"))
}
