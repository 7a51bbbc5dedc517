//go:build js && wasm

// Package bridge connects the engine to the browser: every call into JavaScript is here.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// JSError is a JavaScript exception or rejection reason seen from Go; the core reads its Name
// (a QuotaExceededError from IndexedDB becomes "quota-exceeded").
type JSError = core.Error

// errorOf describes a JS value thrown or rejected.
func errorOf(v safejs.Value) error {
	name, _ := stringProp(v, "name")
	msg, _ := stringProp(v, "message")
	if name == "" && msg == "" {
		s, _ := v.String()
		return &JSError{Name: "Error", Message: s}
	}
	return &JSError{Name: name, Message: msg}
}

func stringProp(v safejs.Value, name string) (string, error) {
	if v.Type() != safejs.TypeObject {
		return "", errors.New("not an object")
	}
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeString {
		return "", err
	}
	return p.String()
}

// outcome is how an awaited promise ended.
type outcome struct {
	v   safejs.Value
	err error
}

// awaiter hands promise outcomes to Go through one callback made once: the I/O helper's
// settle(promise, id, report) attaches the reactions in JS, so an await is one crossing and
// creates no Go function (two per await, with their finalizers, cost ~7% of a fan-out's CPU).
type awaiter struct {
	settle safejs.Value // js/55-io.js bodyIO().settle
	report safejs.Func

	mu      sync.Mutex
	next    int
	waiting map[int]chan outcome
}

var awaits atomic.Pointer[awaiter]

// UseIO sets the I/O helper (js/55-io.js bodyIO()) that Await goes through, once, before the
// first Await.
func UseIO(io safejs.Value) error {
	settle, err := io.Get("settle")
	if err != nil {
		return err
	}
	a := &awaiter{settle: settle, waiting: map[int]chan outcome{}}
	a.report, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		id, _ := arg(args, 0).Int()
		ok, _ := arg(args, 1).Bool()
		a.mu.Lock()
		ch := a.waiting[id]
		delete(a.waiting, id)
		a.mu.Unlock()
		if ch == nil {
			return nil // its waiter gave up
		}
		if ok {
			ch <- outcome{v: arg(args, 2)}
		} else {
			ch <- outcome{err: errorOf(arg(args, 2))}
		}
		return nil
	})
	if err != nil {
		return err
	}
	awaits.Store(a) // an earlier awaiter's callback is never released: its promises may still settle
	return nil
}

// Await waits for a JS promise.
func Await(ctx context.Context, promise safejs.Value) (safejs.Value, error) {
	ch, forget, err := watch(promise)
	if err != nil {
		return safejs.Undefined(), err
	}
	select {
	case s := <-ch:
		return s.v, s.err
	case <-ctx.Done():
		forget()
		return safejs.Undefined(), context.Cause(ctx)
	}
}

// withTimeout is context.WithTimeout without its timerCtx, whose methods cost the module ~2.8 KB
// brotli; Await reports the expiry as context.DeadlineExceeded all the same.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// watch hands how promise ends to the returned channel; forget stops that when no one will
// read it.
func watch(promise safejs.Value) (<-chan outcome, func(), error) {
	a := awaits.Load()
	if a == nil {
		return nil, nil, errors.New("bridge: no I/O helper to await with (UseIO)")
	}
	ch := make(chan outcome, 1) // the callback runs on the JS event loop and must never block
	a.mu.Lock()
	a.next++
	id := a.next
	a.waiting[id] = ch
	a.mu.Unlock()
	forget := func() {
		a.mu.Lock()
		delete(a.waiting, id)
		a.mu.Unlock()
	}
	if _, err := a.settle.Invoke(promise, id, a.report.Value()); err != nil {
		forget()
		return nil, nil, err
	}
	return ch, forget, nil
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

var promiseCtor = safejs.MustGetGlobal("Promise")

// Promise returns a JS promise settled by fn, which runs in its own goroutine so the
// JS caller is never blocked; a panic in fn rejects the promise instead of killing Go.
func Promise(fn func() (any, error)) safejs.Value {
	var executor safejs.Func
	executor, _ = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			v, err := run(fn)
			if err != nil {
				_, _ = reject.Invoke(rejection(err))
				return
			}
			if _, err := resolve.Invoke(v); err != nil {
				_, _ = reject.Invoke(rejection(err))
			}
		}()
		return nil
	})
	p, err := promiseCtor.New(executor.Value())
	if err != nil {
		panic(err) // the Promise constructor does not throw for a function
	}
	return p
}

func run(fn func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn()
}

// rejection turns a Go error into a plain {name, message} object the shim rethrows.
func rejection(err error) any {
	var ce *core.Error
	if errors.As(err, &ce) {
		return map[string]any{"name": ce.Name, "message": ce.Message}
	}
	return map[string]any{"name": "TypeError", "message": err.Error()}
}
