//go:build js && wasm

package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// syncTimeout bounds how long a completion waits for pages to apply the final update.
const syncTimeout = 500 * time.Millisecond

// eventLimit bounds how long a completion event's waitUntil promises hold the fetch's data, as
// Chromium bounds an event: pages' pings would keep a worker with one that never settles alive for ever.
const eventLimit = 5 * time.Minute

// rollCallGrace is how long after the engine starts every window is waited for: a page that ran
// bgfetch with an earlier copy of the worker is known to this one once it answers the roll call.
const rollCallGrace = time.Second

// Notifier is core.Notifier: pages hear a BroadcastChannel, the worker's own instances and
// events go through the shim's host object, which also gathers the pages' acknowledgements.
type Notifier struct {
	host, io, channel, json safejs.Value
	started                 time.Time
	eventLimit              time.Duration

	mu      sync.Mutex
	settled map[string]safejs.Value // the worker realm's promise for a final update
}

// LimitEvents sets how long a completion event's waitUntil promises may hold the fetch's data.
func (n *Notifier) LimitEvents(d time.Duration) { n.eventLimit = d }

// NewNotifier opens the registration's channel and calls the roll of the clients that run
// bgfetch: they answer the worker (js/40-page.js), which then waits for their acknowledgements.
// io is the shim's I/O helper (js/55-io.js), which announces updates.
func NewNotifier(host, io safejs.Value, channelName string) (*Notifier, error) {
	ch, err := io.Call("channel", channelName) // closed by the shim when the instance exits
	if err != nil {
		return nil, err
	}
	n := &Notifier{host: host, io: io, channel: ch, json: safejs.MustGetGlobal("JSON"),
		settled: map[string]safejs.Value{}, started: time.Now(), eventLimit: eventLimit}
	rollCall, _ := n.json.Call("parse", `{"bgfetch":"rollcall"}`)
	_, _ = ch.Call("postMessage", rollCall)
	return n, nil
}

// snapshot makes the JS object of a snapshot.
func (n *Notifier) snapshot(s core.Snapshot) safejs.Value {
	out, _ := n.json.Call("parse", string(s.AppendJSON(nil)))
	return out
}

// Update implements core.Notifier.
func (n *Notifier) Update(s core.Snapshot) {
	// One crossing: the helper hands the snapshot to the worker's instances and posts it to pages.
	msg := append(s.AppendJSON([]byte(`{"bgfetch":"update","snapshot":`)), '}')
	settled, _ := n.io.Call("announce", n.host, n.channel, string(msg))
	if s.Result != "" && s.RecordsAvailable && settled.Type() == safejs.TypeObject {
		n.mu.Lock()
		n.settled[s.UniqueID] = settled
		n.mu.Unlock()
	}
}

// Sync implements core.Notifier: it waits until the worker's realm and every client known to run
// the shim have applied the final update (and pinned their records), or for syncTimeout. A window
// that does not run bgfetch never answers, so it is waited for only during rollCallGrace.
func (n *Notifier) Sync(ctx context.Context, uniqueID string) {
	deadline := time.Now().Add(syncTimeout)
	ctx, cancel := withTimeout(ctx, syncTimeout)
	defer cancel()
	n.mu.Lock()
	settled, ok := n.settled[uniqueID]
	delete(n.settled, uniqueID)
	n.mu.Unlock()
	if ok {
		_, _ = Await(ctx, settled) // the worker's own records are pinned
	}
	if f, _ := n.host.Get("acknowledged"); f.Type() != safejs.TypeFunction {
		return
	}
	every := time.Since(n.started) < rollCallGrace
	p, err := n.host.Call("acknowledged", uniqueID, every, time.Until(deadline).Milliseconds())
	if err == nil {
		_, _ = Await(ctx, p)
	}
}

// Dispatch implements core.Notifier; after eventLimit the event's data goes whatever its
// waitUntil promises still wait for.
func (n *Notifier) Dispatch(ctx context.Context, event string, s core.Snapshot) error {
	p, err := n.host.Call("dispatch", event, n.snapshot(s), n.eventLimit.Milliseconds())
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, n.eventLimit)
	defer cancel()
	_, err = Await(ctx, p)
	return err
}
