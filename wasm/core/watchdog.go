package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// errStalled ends an attempt whose connection delivered nothing for Config.StallTimeout.
var errStalled = errors.New("the connection stalled")

// watchdog cancels an attempt when it is not fed for a while. Feeding only stores the time, so the
// per-chunk cost is one clock read; a single timer checks it when it is due. Until the response head
// arrives, bytes arriving for any request of the engine count as a feed too: the browser may hold the
// request back behind its own connections to the host, busy with other downloads, and that is no stall.
type watchdog struct {
	clock   Clock
	d       time.Duration
	cancel  context.CancelFunc
	last    atomic.Int64  // unix nanoseconds of the last feed
	net     *atomic.Int64 // unix nanoseconds of the engine's last arrival, shared by its watchdogs
	waiting atomic.Bool   // the response head has not arrived

	mu     sync.Mutex
	stop   func() bool
	fired  bool
	halted bool
}

// newWatchdog returns a context that ends with parent or when the watchdog is not fed for d
// (never, if d is not positive); net is the engine's last arrival.
func newWatchdog(parent context.Context, clock Clock, d time.Duration, net *atomic.Int64) (*watchdog, context.Context) {
	ctx, cancel := context.WithCancel(parent)
	w := &watchdog{clock: clock, d: d, cancel: cancel, net: net}
	w.waiting.Store(true)
	if d > 0 {
		w.feed()
		w.arm(d)
	}
	return w, ctx
}

// feed restarts the countdown: something arrived.
func (w *watchdog) feed() {
	if w.d > 0 {
		w.last.Store(w.clock.Now().UnixNano())
	}
}

// arrived feeds the watchdog for bytes or a head that came from the network; the first call
// ends the wait for the head.
func (w *watchdog) arrived() {
	if w.d > 0 {
		now := w.clock.Now().UnixNano()
		w.last.Store(now)
		w.net.Store(now)
	}
	w.waiting.Store(false)
}

// awaitTurn starts a wait for a turn to read the body: like the wait for the head, others'
// arrivals end its silence.
func (w *watchdog) awaitTurn() { w.waiting.Store(true) }

// turnCame ends the wait awaitTurn started.
func (w *watchdog) turnCame() {
	w.feed()
	w.waiting.Store(false)
}

func (w *watchdog) arm(after time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.halted {
		w.stop = w.clock.AfterFunc(after, w.check)
	}
}

// check fires if the last feed is d old, else waits for the rest.
func (w *watchdog) check() {
	last := w.last.Load()
	if w.waiting.Load() {
		last = max(last, w.net.Load())
	}
	idle := w.clock.Now().Sub(time.Unix(0, last))
	if idle < w.d {
		w.arm(w.d - idle)
		return
	}
	w.mu.Lock()
	if w.halted {
		w.mu.Unlock()
		return
	}
	w.fired = true
	w.mu.Unlock()
	w.cancel()
}

// halt stops the watchdog and its context, reporting whether it had fired.
func (w *watchdog) halt() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halted = true
	if w.stop != nil {
		w.stop()
	}
	w.cancel()
	return w.fired
}

// stalled converts the error of an attempt the watchdog ended.
func (w *watchdog) stalled(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired && err != nil {
		return errStalled
	}
	return err
}
