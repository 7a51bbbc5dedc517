//go:build js && wasm

// Command wasm is bgfetch.wasm: it wires the engine to the browser and serves the shim.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bgfetch/bgfetch/bridge"
	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// hostName is the global the shim sets before running the instance.
const hostName = "__bgfetchHost"

func main() {
	host := safejs.MustGetGlobal(hostName)
	if err := start(context.Background(), host); err != nil {
		_, _ = host.Call("fail", err.Error())
		return // the instance ends, releasing the engine lock (js/60-worker.js); the next call starts another
	}
	select {} // returning from main would end the instance
}

func start(ctx context.Context, host safejs.Value) error {
	db, err := stringOf(host, "database")
	if err != nil {
		return err
	}
	channel, err := stringOf(host, "channel")
	if err != nil {
		return err
	}
	io, err := host.Get("io")
	if err != nil {
		return err
	}
	if err := bridge.UseIO(io); err != nil {
		return err
	}
	opened, err := host.Get("opened")
	if err != nil {
		return err
	}
	store, err := bridge.OpenStore(ctx, opened, io)
	if err != nil {
		return fmt.Errorf("opening IndexedDB %q: %w", db, err)
	}
	notifier, err := bridge.NewNotifier(host, io, channel)
	if err != nil {
		return err
	}
	cfg := core.DefaultConfig()
	if d, ok := millis(host, "stallTimeout"); ok {
		cfg.StallTimeout = d
	}
	if d, ok := millis(host, "eventLimit"); ok {
		notifier.LimitEvents(d)
	}
	console := safejs.MustGetGlobal("console")
	fetcher := bridge.NewFetcher(io)
	engine := core.New(core.Platform{
		Store: store, Fetcher: fetcher, Network: fetcher, Notifier: notifier, Clock: core.SystemClock{},
		NewID: newID, StorageAvailable: bridge.StorageAvailable,
		Logf: func(format string, args ...any) {
			_, _ = console.Call("warn", fmt.Sprintf(format, args...))
		},
	}, cfg)
	if err := engine.Start(ctx); err != nil {
		return err
	}
	debug, _ := host.Get("debug")
	isDebug, _ := debug.Bool()
	api := &bridge.API{Engine: engine, DB: db, Debug: isDebug}
	if err := api.Install(ctx, host); err != nil {
		return err
	}
	_, err = host.Call("ready")
	return err
}

// millis reads a positive number of milliseconds from the host's config, at least 1 and at most
// what a browser's setTimeout takes (2^31-1): a longer one would wrap around there and fire at once.
func millis(host safejs.Value, name string) (time.Duration, bool) {
	v, err := host.Get(name)
	if err != nil || v.Type() != safejs.TypeNumber {
		return 0, false
	}
	ms, _ := v.Float()
	if !(ms > 0) {
		return 0, false
	}
	return time.Duration(min(max(ms, 1), 1<<31-1)) * time.Millisecond, true
}

func stringOf(v safejs.Value, name string) (string, error) {
	p, err := v.Get(name)
	if err != nil {
		return "", err
	}
	return p.String()
}

// newID asks the browser's CSPRNG for a UUID (crypto/rand would add ~45 KB brotli to the wasm).
func newID() string {
	c := safejs.MustGetGlobal("crypto")
	v, err := c.Call("randomUUID")
	if err != nil {
		panic(err) // service workers are secure contexts: randomUUID exists
	}
	s, _ := v.String()
	return s
}
