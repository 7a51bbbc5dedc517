package core

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errStalled ends an attempt whose connection delivered nothing for Config.StallTimeout.
var errStalled = errors.New("the connection stalled")

// watchdog cancels an attempt when it is not fed for a while.
type watchdog struct {
	clock  Clock
	d      time.Duration
	cancel context.CancelFunc

	mu    sync.Mutex
	stop  func() bool
	fired bool
}

// newWatchdog returns a context that ends with parent or when the watchdog is not fed for d.
func newWatchdog(parent context.Context, clock Clock, d time.Duration) (*watchdog, context.Context) {
	ctx, cancel := context.WithCancel(parent)
	w := &watchdog{clock: clock, d: d, cancel: cancel}
	w.feed()
	return w, ctx
}

// feed restarts the countdown: something arrived.
func (w *watchdog) feed() {
	if w.d <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return
	}
	if w.stop != nil {
		w.stop()
	}
	w.stop = w.clock.AfterFunc(w.d, w.fire)
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.fired = true
	w.mu.Unlock()
	w.cancel()
}

// halt stops the watchdog and its context, reporting whether it had fired.
func (w *watchdog) halt() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
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
