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
	host, channel, json, clients safejs.Value

	mu      sync.Mutex
	acks    map[string]int
	settled map[string]safejs.Value // the worker realm's promise for a final update
	wake    chan struct{}
}

// NewNotifier opens the registration's channel; pages acknowledge final updates on it.
func NewNotifier(host safejs.Value, channelName string) (*Notifier, error) {
	ch, err := safejs.MustGetGlobal("BroadcastChannel").New(channelName)
	if err != nil {
		return nil, err
	}
	n := &Notifier{host: host, channel: ch, json: safejs.MustGetGlobal("JSON"),
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
	_ = ch.Set("onmessage", onMessage.Value()) // lives as long as the instance
	return n, nil
}

// snapshot makes the JS object of a snapshot, wrapped as {bgfetch: "update", snapshot} when asked.
func (n *Notifier) snapshot(s core.Snapshot, wrapped bool) safejs.Value {
	var b []byte
	if wrapped {
		b = append(s.AppendJSON([]byte(`{"bgfetch":"update","snapshot":`)), '}')
	} else {
		b = s.AppendJSON(nil)
	}
	out, _ := n.json.Call("parse", string(b))
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
	msg := n.snapshot(s, true) // one object serves both: the worker's instances and the pages' message
	v, _ := msg.Get("snapshot")
	settled, _ := n.host.Call("update", v)
	if s.Result != "" && s.RecordsAvailable && settled.Type() == safejs.TypeObject {
		n.mu.Lock()
		n.settled[s.UniqueID] = settled
		n.mu.Unlock()
	}
	_, _ = n.channel.Call("postMessage", msg)
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
	p, err := n.host.Call("dispatch", event, n.snapshot(s, false))
	if err != nil {
		return err
	}
	_, err = Await(ctx, p)
	return err
}
