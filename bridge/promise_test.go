//go:build js && wasm

package bridge

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAwaitResolved(t *testing.T) {
	p, err := promiseCtor.Call("resolve", 42)
	require.NoError(t, err)
	v, err := Await(testCtx(t), p)
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, 42, n)

	// A promise that settles later, from a timer.
	later := jsFunc(`() => new Promise((resolve) => setTimeout(() => resolve('late'), 50))`)
	p, err = later.Invoke()
	require.NoError(t, err)
	v, err = Await(testCtx(t), p)
	require.NoError(t, err)
	s, _ := v.String()
	assert.Equal(t, "late", s)
}

func TestAwaitRejectedKeepsName(t *testing.T) {
	ex, err := safejs.MustGetGlobal("DOMException").New("x", "AbortError")
	require.NoError(t, err)
	p, err := promiseCtor.Call("reject", ex)
	require.NoError(t, err)
	_, err = Await(testCtx(t), p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AbortError")
	var je *JSError
	require.True(t, errors.As(err, &je), "%T", err)
	assert.Equal(t, "AbortError", je.Name)
	assert.Equal(t, "x", je.Message)

	// A thrown TypeError, and a reason that is not an object.
	p, err = jsFunc(`async () => { null.x }`).Invoke()
	require.NoError(t, err)
	_, err = Await(testCtx(t), p)
	require.True(t, errors.As(err, &je), "%v", err)
	assert.Equal(t, "TypeError", je.Name)

	p, err = promiseCtor.Call("reject", "boom")
	require.NoError(t, err)
	_, err = Await(testCtx(t), p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
}

func TestAwaitContextEnds(t *testing.T) {
	never, err := jsFunc(`() => new Promise(() => {})`).Invoke()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Await(ctx, never)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
}

// The bridge's own timeouts (an event's limit, the wait for acknowledgements) end an await as
// context.WithTimeout does, and their cancel ends it as a cancellation.
func TestAwaitWithTimeout(t *testing.T) {
	never, err := jsFunc(`() => new Promise(() => {})`).Invoke()
	require.NoError(t, err)
	ctx, cancel := withTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Await(ctx, never)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	assert.Less(t, time.Since(start), time.Second)

	ctx, cancel = withTimeout(context.Background(), time.Hour)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = Await(ctx, never)
	assert.ErrorIs(t, err, context.Canceled)
}

// Awaits share one callback: each outcome reaches its own waiter, in whatever order they settle,
// and a waiter that gave up is forgotten without harm when its promise settles later.
func TestAwaitsShareOneCallback(t *testing.T) {
	a := awaits.Load()
	delayed := jsFunc(`(ms, v, fail) => new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new RangeError(v)) : resolve(v)), ms))`)
	type result struct {
		i   int
		v   string
		err error
	}
	const n = 20
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		p, err := delayed.Invoke((n-i)*5, fmt.Sprint("v", i), i%5 == 0) // later ones settle first
		require.NoError(t, err)
		go func() {
			v, err := Await(testCtx(t), p)
			s, _ := v.String()
			results <- result{i, s, err}
		}()
	}
	for range n {
		r := <-results
		if r.i%5 == 0 {
			var je *JSError
			require.True(t, errors.As(r.err, &je), "%d: %v", r.i, r.err)
			assert.Equal(t, "RangeError", je.Name)
			assert.Equal(t, fmt.Sprint("v", r.i), je.Message)
		} else {
			require.NoError(t, r.err)
			assert.Equal(t, fmt.Sprint("v", r.i), r.v)
		}
	}

	late, err := delayed.Invoke(100, "late", false)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = Await(ctx, late)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	a.mu.Lock()
	assert.Empty(t, a.waiting, "a waiter that gave up is forgotten at once, not when (if ever) its promise settles")
	a.mu.Unlock()
	_, err = Await(testCtx(t), late) // settles after the first waiter left; the program goes on
	require.NoError(t, err)
}

func TestAwaitNonPromiseFails(t *testing.T) {
	_, err := Await(testCtx(t), safejs.Safe(js.ValueOf(3)))
	assert.Error(t, err)
}

func TestPromiseResolves(t *testing.T) {
	s := settle(t, Promise(func() (any, error) { return "value", nil }), 5*time.Second)
	require.False(t, s.rejected)
	v, _ := s.value.String()
	assert.Equal(t, "value", v)

	// A JS value (what API.Install returns) passes through as is.
	obj, err := safejs.MustGetGlobal("Object").New()
	require.NoError(t, err)
	s = settle(t, Promise(func() (any, error) { return obj, nil }), 5*time.Second)
	require.False(t, s.rejected)
	assert.True(t, s.value.Equal(obj))
}

func TestPromiseRejects(t *testing.T) {
	s := settle(t, Promise(func() (any, error) { return nil, errors.New("plain") }), 5*time.Second)
	require.True(t, s.rejected)
	assert.Equal(t, "TypeError", prop(t, s.value, "name"))
	assert.Equal(t, "plain", prop(t, s.value, "message"))

	wrapped := errors.Join(errors.New("context"), &core.Error{Name: "InvalidStateError", Message: "gone"})
	s = settle(t, Promise(func() (any, error) { return nil, wrapped }), 5*time.Second)
	require.True(t, s.rejected)
	assert.Equal(t, "InvalidStateError", prop(t, s.value, "name"))
	assert.Equal(t, "gone", prop(t, s.value, "message"))
}

func TestPromisePanicRejects(t *testing.T) {
	s := settle(t, Promise(func() (any, error) { panic("kaboom") }), 5*time.Second)
	require.True(t, s.rejected)
	assert.Equal(t, "TypeError", prop(t, s.value, "name"))
	assert.Contains(t, prop(t, s.value, "message"), "kaboom")

	// The program is still alive and Promise still works.
	s = settle(t, Promise(func() (any, error) { return 1, nil }), 5*time.Second)
	assert.False(t, s.rejected)
}

// A value js.ValueOf cannot convert makes resolve.Invoke fail; that error is
// dropped, so the promise never settles.
func TestPromiseUnconvertibleValueSettles(t *testing.T) {
	s := settle(t, Promise(func() (any, error) { return struct{ X int }{1}, nil }), 2*time.Second)
	assert.True(t, s.rejected, "a value JS cannot hold should reject")
}
