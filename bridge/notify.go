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

// Notifier is core.Notifier: pages hear a BroadcastChannel, the worker's own instances and
// events go through the shim's host object.
type Notifier struct {
	host, io, channel, json, clients safejs.Value

	mu      sync.Mutex
	acks    map[string]int
	settled map[string]safejs.Value // the worker realm's promise for a final update
	wake    chan struct{}
}

// NewNotifier opens the registration's channel; pages acknowledge final updates on it. io is
// the shim's I/O helper (js/55-io.js), which announces updates.
func NewNotifier(host, io safejs.Value, channelName string) (*Notifier, error) {
	ch, err := io.Call("channel", channelName) // closed by the shim when the instance exits
	if err != nil {
		return nil, err
	}
	n := &Notifier{host: host, io: io, channel: ch, json: safejs.MustGetGlobal("JSON"),
		acks: map[string]int{}, settled: map[string]safejs.Value{}, wake: make(chan struct{})}
	n.clients, _ = safejs.Global().Get("clients")
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

// Sync implements core.Notifier: it waits until the worker's realm and every window of the
// origin that runs the shim have applied the final update (and pinned their records), or for syncTimeout.
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
	windows := n.windowCount(ctx)
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

func (n *Notifier) windowCount(ctx context.Context) int {
	if n.clients.IsUndefined() {
		return 0
	}
	opts := map[string]any{"type": "window", "includeUncontrolled": true}
	p, err := n.clients.Call("matchAll", opts)
	if err != nil {
		return 0
	}
	list, err := Await(ctx, p)
	if err != nil {
		return 0
	}
	c, _ := list.Length()
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
