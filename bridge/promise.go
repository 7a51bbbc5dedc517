//go:build js && wasm

// Package bridge connects the engine to the browser: every call into JavaScript is here.
package bridge

import (
	"context"
	"errors"
	"fmt"

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

// Await waits for a JS promise. Its callbacks release themselves when the promise settles.
func Await(ctx context.Context, promise safejs.Value) (safejs.Value, error) {
	type settled struct {
		v   safejs.Value
		err error
	}
	ch := make(chan settled, 1)
	var onOK, onErr safejs.Func
	release := func() { onOK.Release(); onErr.Release() }
	var err error
	onOK, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{v: arg(args, 0)}
		release()
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	onErr, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{err: errorOf(arg(args, 0))}
		release()
		return nil
	})
	if err != nil {
		onOK.Release()
		return safejs.Undefined(), err
	}
	if _, err := promise.Call("then", onOK.Value(), onErr.Value()); err != nil {
		release()
		return safejs.Undefined(), err
	}
	select {
	case s := <-ch:
		return s.v, s.err
	case <-ctx.Done():
		return safejs.Undefined(), ctx.Err()
	}
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
