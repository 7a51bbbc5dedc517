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

// rollCallGrace is how long after the engine starts every window is waited for: a page that ran
// bgfetch with an earlier copy of the worker is known to this one once it answers the roll call.
const rollCallGrace = time.Second

// Notifier is core.Notifier: pages hear a BroadcastChannel, the worker's own instances and
// events go through the shim's host object.
type Notifier struct {
	host, io, channel, json safejs.Value
	started                 time.Time

	mu      sync.Mutex
	acks    map[string]int
	settled map[string]safejs.Value // the worker realm's promise for a final update
	wake    chan struct{}
}

// NewNotifier opens the registration's channel; pages acknowledge final updates on it, and it
// calls the roll of pages that run bgfetch (they answer the worker: js/40-page.js). io is the
// shim's I/O helper (js/55-io.js), which announces updates.
func NewNotifier(host, io safejs.Value, channelName string) (*Notifier, error) {
	ch, err := io.Call("channel", channelName) // closed by the shim when the instance exits
	if err != nil {
		return nil, err
	}
	n := &Notifier{host: host, io: io, channel: ch, json: safejs.MustGetGlobal("JSON"),
		acks: map[string]int{}, settled: map[string]safejs.Value{}, wake: make(chan struct{}), started: time.Now()}
	onMessage, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		data, _ := arg(args, 0).Get("data")
		if kind, _ := stringProp(data, "bgfetch"); kind == "ack" {
			id, _ := stringProp(data, "uniqueId")
			n.mu.Lock()
			if _, waiting := n.acks[id]; waiting {
				n.acks[id]++
			}
			close(n.wake)
			n.wake = make(chan struct{})
			n.mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	_ = ch.Set("onmessage", onMessage.Value())
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
	if s.Result != "" && s.RecordsAvailable { // the final update: pages acknowledge it
		n.mu.Lock()
		if _, waiting := n.acks[s.UniqueID]; !waiting {
			n.acks[s.UniqueID] = 0
		}
		n.mu.Unlock()
	}
	// One crossing: the helper hands the snapshot to the worker's instances and posts it to pages.
	msg := append(s.AppendJSON([]byte(`{"bgfetch":"update","snapshot":`)), '}')
	settled, _ := n.io.Call("announce", n.host, n.channel, string(msg))
	if s.Result != "" && s.RecordsAvailable && settled.Type() == safejs.TypeObject {
		n.mu.Lock()
		n.settled[s.UniqueID] = settled
		n.mu.Unlock()
	}
}

// Sync implements core.Notifier: it waits until the worker's realm and every client of the
// origin that runs the shim have applied the final update (and pinned their records), or for
// syncTimeout. A window that does not run bgfetch never answers, so it is not waited for.
func (n *Notifier) Sync(ctx context.Context, uniqueID string) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	defer func() {
		n.mu.Lock()
		delete(n.acks, uniqueID)
		n.mu.Unlock()
	}()
	n.mu.Lock()
	settled, ok := n.settled[uniqueID]
	delete(n.settled, uniqueID)
	n.mu.Unlock()
	if ok {
		_, _ = Await(ctx, settled) // the worker's own records are pinned
	}
	windows := n.acknowledgers(ctx)
	for {
		n.mu.Lock()
		got, wake := n.acks[uniqueID], n.wake
		n.mu.Unlock()
		if got >= windows {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// acknowledgers asks the host how many clients will acknowledge: those known to run bgfetch, or
// during rollCallGrace every window.
func (n *Notifier) acknowledgers(ctx context.Context) int {
	if f, _ := n.host.Get("acknowledgers"); f.Type() != safejs.TypeFunction {
		return 0
	}
	p, err := n.host.Call("acknowledgers", time.Since(n.started) < rollCallGrace)
	if err != nil {
		return 0
	}
	count, err := Await(ctx, p)
	if err != nil {
		return 0
	}
	c, _ := count.Int()
	return c
}

// Dispatch implements core.Notifier.
func (n *Notifier) Dispatch(ctx context.Context, event string, s core.Snapshot) error {
	p, err := n.host.Call("dispatch", event, n.snapshot(s))
	if err != nil {
		return err
	}
	_, err = Await(ctx, p)
	return err
}
