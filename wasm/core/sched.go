package core

import (
	"context"
	"sync"
)

// scheduler bounds the network requests in flight and hands free slots out round-robin
// between fetches, so a fetch with many records cannot hold back the ones started after it.
type scheduler struct {
	mu     sync.Mutex
	free   int
	queues map[string][]chan struct{} // waiting requests by fetch unique id, in arrival order
	order  []string                   // fetches with waiting requests, next to serve first
}

func newScheduler(slots int) *scheduler {
	return &scheduler{free: max(slots, 1), queues: map[string][]chan struct{}{}}
}

// acquire waits for a slot for a request of fetch; release must follow a nil return. A fetch that
// has ended (ctx) gets none, even when one is free: its requests must not go out.
func (s *scheduler) acquire(ctx context.Context, fetch string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.free > 0 && len(s.order) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if len(s.queues[fetch]) == 0 {
		s.order = append(s.order, fetch)
	}
	s.queues[fetch] = append(s.queues[fetch], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		if err := ctx.Err(); err != nil { // both were ready: the slot goes on
			s.release()
			return err
		}
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		waiting := s.remove(fetch, ch)
		s.mu.Unlock()
		if !waiting {
			s.release() // the slot was granted while ctx ended: pass it on
		}
		return ctx.Err()
	}
}

// release frees a slot, giving it to the next fetch in turn.
func (s *scheduler) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		s.free++
		return
	}
	fetch := s.order[0]
	s.order = s.order[1:]
	q := s.queues[fetch]
	close(q[0])
	if len(q) == 1 {
		delete(s.queues, fetch)
	} else {
		s.queues[fetch] = q[1:]
		s.order = append(s.order, fetch) // its next request waits for the others' turns
	}
}

// remove drops a waiting request; it reports false if the request is no longer waiting.
func (s *scheduler) remove(fetch string, ch chan struct{}) bool {
	q := s.queues[fetch]
	for i, c := range q {
		if c != ch {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if len(q) > 0 {
			s.queues[fetch] = q
			return true
		}
		delete(s.queues, fetch)
		for j, id := range s.order {
			if id == fetch {
				s.order = append(s.order[:j:j], s.order[j+1:]...)
				break
			}
		}
		return true
	}
	return false
}

// slot waits for a network slot for a request of f: one of MaxInFlight, and one of
// MaxLargeInFlight too unless f's last response was small. release frees it; calling it again
// does nothing.
func (e *Engine) slot(f *bgFetch) (release func(), err error) {
	large := !f.small.Load()
	if large {
		if err := e.large.acquire(f.ctx, f.doc.UniqueID); err != nil {
			return nil, err
		}
	}
	if err := e.sched.acquire(f.ctx, f.doc.UniqueID); err != nil {
		if large {
			e.large.release()
		}
		return nil, err
	}
	return sync.OnceFunc(func() {
		e.sched.release()
		if large {
			e.large.release()
		}
	}), nil
}
