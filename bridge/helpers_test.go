//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/require"
)

// origin is the test server of the wasmexec runner.
func origin(t *testing.T) string {
	t.Helper()
	o := os.Getenv("BGFETCH_TEST_ORIGIN")
	if o == "" {
		t.Fatal("BGFETCH_TEST_ORIGIN is not set: run with the wasmexec runner (make bridge-test)")
	}
	return o
}

// jsFunc compiles a JS function expression, so helpers read as the JS they run.
func jsFunc(src string) safejs.Value {
	f, err := safejs.MustGetGlobal("Function").New("return (" + src + ");")
	if err != nil {
		panic(err)
	}
	v, err := f.Invoke()
	if err != nil {
		panic(err)
	}
	return v
}

// testIO is the shim's I/O helper object: the runner loads js/55-io.js into the page
// (WASMEXEC_SCRIPTS in the Makefile), where bodyIO is a global function.
// TestMain installs the I/O helper Await goes through, as the worker does at start.
func TestMain(m *testing.M) {
	if err := UseIO(testIO()); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func testIO() safejs.Value {
	io, err := safejs.MustGetGlobal("bodyIO").Invoke()
	if err != nil {
		panic(err)
	}
	return io
}

func truthy(v safejs.Value) bool {
	t, _ := v.Truthy()
	return t
}

var nameSeq atomic.Int64

// uniqueName gives every test its own database or channel.
func uniqueName(t *testing.T) string {
	n := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("bgfetch-test-%s-%d-%d", n, time.Now().UnixNano(), nameSeq.Add(1))
}

// testCtx is a context bounded well below the suite's timeout.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// u8 copies b into a new JS Uint8Array.
func u8(t *testing.T, b []byte) safejs.Value {
	t.Helper()
	v, err := safejs.MustGetGlobal("Uint8Array").New(len(b))
	require.NoError(t, err)
	_, err = safejs.CopyBytesToJS(v, b)
	require.NoError(t, err)
	return v
}

// goBytes copies a JS Uint8Array, ArrayBuffer or Blob into Go.
func goBytes(t *testing.T, v safejs.Value) []byte {
	t.Helper()
	if ok, _ := v.InstanceOf(safejs.MustGetGlobal("Blob")); ok {
		p, err := v.Call("arrayBuffer")
		require.NoError(t, err)
		v, err = Await(testCtx(t), p)
		require.NoError(t, err)
	}
	view := v
	if ok, _ := v.InstanceOf(safejs.MustGetGlobal("Uint8Array")); !ok {
		var err error
		view, err = safejs.MustGetGlobal("Uint8Array").New(v)
		require.NoError(t, err)
	}
	n, err := view.Length()
	require.NoError(t, err)
	b := make([]byte, n)
	m, err := safejs.CopyBytesToGo(b, view)
	require.NoError(t, err)
	require.Equal(t, n, m)
	return b
}

// pattern is what /bytes?n=N serves from offset off on: byte i is i % 251.
func pattern(off, end int) []byte {
	b := make([]byte, 0, end-off)
	for i := off; i < end; i++ {
		b = append(b, byte(i%251))
	}
	return b
}

// settled is how a JS promise ended, observed without bridge.Await.
type settled struct {
	value    safejs.Value
	rejected bool
}

// observe attaches then() to p; the channel gets its outcome.
func observe(t *testing.T, p safejs.Value) <-chan settled {
	t.Helper()
	ch := make(chan settled, 1)
	var ok, fail safejs.Func
	ok, _ = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{value: arg(args, 0)}
		return nil
	})
	fail, _ = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{value: arg(args, 0), rejected: true}
		return nil
	})
	t.Cleanup(func() { ok.Release(); fail.Release() })
	_, err := p.Call("then", ok.Value(), fail.Value())
	require.NoError(t, err)
	return ch
}

// settle waits for p to settle, failing the test after d.
func settle(t *testing.T, p safejs.Value, d time.Duration) settled {
	t.Helper()
	select {
	case s := <-observe(t, p):
		return s
	case <-time.After(d):
		t.Fatalf("promise not settled after %v", d)
		return settled{}
	}
}

// prop reads a string property of a JS object.
func prop(t *testing.T, v safejs.Value, name string) string {
	t.Helper()
	p, err := v.Get(name)
	require.NoError(t, err)
	s, err := p.String()
	require.NoError(t, err)
	return s
}
