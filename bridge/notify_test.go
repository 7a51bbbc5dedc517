//go:build js && wasm

package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listen opens a second BroadcastChannel on name; the channel gets each message's data.
func listen(t *testing.T, name string) (safejs.Value, <-chan safejs.Value) {
	t.Helper()
	bc, err := safejs.MustGetGlobal("BroadcastChannel").New(name)
	require.NoError(t, err)
	ch := make(chan safejs.Value, 16)
	onMessage, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		data, _ := arg(args, 0).Get("data")
		ch <- data
		return nil
	})
	require.NoError(t, bc.Set("onmessage", onMessage.Value()))
	t.Cleanup(func() { _, _ = bc.Call("close"); onMessage.Release() })
	return bc, ch
}

func TestNotifierUpdate(t *testing.T) {
	h := newFakeHost(t)
	name := uniqueName(t)
	n, err := NewNotifier(h.obj, testIO(), name)
	require.NoError(t, err)
	_, msgs := listen(t, name)
	snap := core.Snapshot{UniqueID: "u1", ID: "one", Downloaded: 7, Result: "success", RecordsAvailable: true}
	n.Update(snap)
	assert.Equal(t, []core.Snapshot{snap}, h.snapshots())
	select {
	case m := <-msgs:
		assert.Equal(t, "update", prop(t, m, "bgfetch"))
		s, _ := m.Get("snapshot")
		assert.Equal(t, snap, snapshotOf(s))
	case <-time.After(5 * time.Second):
		t.Fatal("no update on the channel")
	}
}

func TestNotifierDispatchWaitsForHost(t *testing.T) {
	h := newFakeHost(t)
	n, err := NewNotifier(h.obj, testIO(), uniqueName(t))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- n.Dispatch(testCtx(t), "backgroundfetchsuccess", core.Snapshot{UniqueID: "u1"}) }()
	ev := h.event(t)
	assert.Equal(t, "backgroundfetchsuccess", ev.typ)
	assert.Equal(t, "u1", ev.snap.UniqueID)
	select {
	case <-done:
		t.Fatal("Dispatch returned before the event settled")
	case <-time.After(100 * time.Millisecond):
	}
	ev.release()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Dispatch did not return")
	}

	// A host whose dispatch rejects: the error keeps its name.
	reject := jsFunc(`() => Promise.reject(new DOMException('no', 'InvalidStateError'))`)
	require.NoError(t, h.obj.Set("dispatch", reject))
	err = n.Dispatch(testCtx(t), "backgroundfetchfail", core.Snapshot{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "InvalidStateError")
}

func TestNotifierSyncInPage(t *testing.T) {
	n, err := NewNotifier(newFakeHost(t).obj, testIO(), uniqueName(t))
	require.NoError(t, err)
	start := time.Now()
	n.Sync(testCtx(t), "u1")
	assert.Less(t, time.Since(start), 100*time.Millisecond, "a host that counts no acknowledgers: nobody to wait for")
}

// The engine calls the roll as it starts; Sync asks the host to wait for the acknowledgements,
// of every window for rollCallGrace, then of the clients known to run bgfetch, within syncTimeout.
func TestNotifierRollCall(t *testing.T) {
	name := uniqueName(t)
	_, msgs := listen(t, name)
	h := newFakeHost(t)
	type ask struct {
		id    string
		every bool
		ms    int
	}
	asked := make(chan ask, 4)
	wait, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		id, _ := arg(args, 0).String()
		every, _ := arg(args, 1).Bool()
		ms, _ := arg(args, 2).Int()
		asked <- ask{id, every, ms}
		p, _ := safejs.MustGetGlobal("Promise").Call("resolve")
		return p
	})
	t.Cleanup(wait.Release)
	require.NoError(t, h.obj.Set("acknowledged", wait.Value()))
	n, err := NewNotifier(h.obj, testIO(), name)
	require.NoError(t, err)
	select {
	case m := <-msgs:
		assert.Equal(t, "rollcall", prop(t, m, "bgfetch"))
	case <-time.After(5 * time.Second):
		t.Fatal("no roll call on the channel")
	}
	n.Sync(testCtx(t), "u1")
	a := <-asked
	assert.Equal(t, "u1", a.id)
	assert.True(t, a.every, "just started: every window counts")
	assert.InDelta(t, syncTimeout.Milliseconds(), a.ms, 50, "what is left of syncTimeout")
	time.Sleep(rollCallGrace)
	n.Sync(testCtx(t), "u1")
	assert.False(t, (<-asked).every, "after the grace: the clients known to run bgfetch")
}

// Sync returns when the host's wait for acknowledgements ends, and at syncTimeout if it does not.
func TestNotifierSyncWaitsForAcks(t *testing.T) {
	h := newFakeHost(t)
	require.NoError(t, h.obj.Set("acknowledged", jsFunc(`(id, every, ms) => new Promise((r) => setTimeout(r, id === 'never' ? 60000 : 100))`)))
	n, err := NewNotifier(h.obj, testIO(), uniqueName(t))
	require.NoError(t, err)

	final := core.Snapshot{UniqueID: "u1", Result: "success", RecordsAvailable: true}
	n.Update(final) // as the engine does: the final update, then Sync
	start := time.Now()
	n.Sync(testCtx(t), "u1")
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 90*time.Millisecond)
	assert.Less(t, took, syncTimeout, "the acknowledgements came")

	start = time.Now()
	n.Sync(testCtx(t), "never")
	took = time.Since(start)
	assert.GreaterOrEqual(t, took, syncTimeout-50*time.Millisecond)
	assert.Less(t, took, syncTimeout+500*time.Millisecond)

	// A context that ends first ends Sync too.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	n.Sync(ctx, "never")
	assert.Less(t, time.Since(start), 300*time.Millisecond)
}

// A completion event whose waitUntil promise never settles holds the fetch for eventLimit, no longer.
func TestNotifierDispatchEndsAtTheEventLimit(t *testing.T) {
	h := newFakeHost(t)
	n, err := NewNotifier(h.obj, testIO(), uniqueName(t))
	require.NoError(t, err)
	n.eventLimit = 100 * time.Millisecond
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- n.Dispatch(testCtx(t), "backgroundfetchsuccess", core.Snapshot{UniqueID: "u1"}) }()
	h.event(t) // dispatched, and never released
	select {
	case err := <-done:
		assert.Error(t, err)
		assert.Less(t, time.Since(start), 2*time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Dispatch waited past the event limit")
	}
}
