package core

import (
	"sync"
	"time"
)

// throttle coalesces the updates of one fetch to at most one per ProgressInterval,
// skipping those that change nothing a progress event reports.
type throttle struct {
	e *Engine
	f *bgFetch

	mu      sync.Mutex
	last    time.Time
	sent    Snapshot
	pending bool
	stop    func() bool
	closed  bool
}

// kick asks for an update soon; call without Engine.mu held.
func (t *throttle) kick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.pending {
		return
	}
	wait := t.e.cfg.ProgressInterval - t.e.p.Clock.Now().Sub(t.last)
	if wait <= 0 {
		t.sendLocked(t.e.snapshot(t.f))
		return
	}
	t.pending = true
	t.stop = t.e.p.Clock.AfterFunc(wait, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.pending = false
		if !t.closed {
			t.sendLocked(t.e.snapshot(t.f))
		}
	})
}

func (t *throttle) sendLocked(s Snapshot) {
	if sent := t.sent; sent.Epoch == s.Epoch {
		sent.Seq = s.Seq
		if sent == s {
			return // nothing changed since the last update
		}
	}
	t.last, t.sent = t.e.p.Clock.Now(), s
	t.e.p.Notifier.Update(s)
}

// final sends the update that carries the result; no update of this throttle follows it.
func (t *throttle) final(s Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeLocked()
	t.sendLocked(s)
}

// finalOnce is final, unless a final update was sent already.
func (t *throttle) finalOnce(s Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closeLocked()
		t.sendLocked(s)
	}
}

func (t *throttle) closeLocked() {
	t.closed = true
	if t.pending && t.stop != nil {
		t.stop()
		t.pending = false
	}
}
