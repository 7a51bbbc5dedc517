package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// switchNet is a Network whose connection the test turns off and on.
type switchNet struct {
	mu      sync.Mutex
	offline bool
	back    chan struct{} // closed when the connection returns
	waits   atomic.Int64  // calls of WaitOnline that found the connection down
}

func (n *switchNet) set(offline bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case offline && !n.offline:
		n.back = make(chan struct{})
	case !offline && n.offline:
		close(n.back)
	}
	n.offline = offline
}

func (n *switchNet) WaitOnline(ctx context.Context) (bool, error) {
	n.mu.Lock()
	offline, back := n.offline, n.back
	n.mu.Unlock()
	if !offline {
		return false, nil
	}
	n.waits.Add(1)
	select {
	case <-back:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// newNetHarness starts an engine on f and net (nil: the network is taken to be there).
func newNetHarness(t *testing.T, f Fetcher, net Network) *harness {
	h := &harness{store: newMemStore(), rec: newRecorder()}
	var n atomic.Int64
	h.e = New(Platform{Store: h.store, Fetcher: f, Notifier: h.rec, Network: net,
		NewID: func() string { return fmt.Sprintf("uid-%d", n.Add(1)) }, Logf: t.Logf}, testConfig())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, h.e.Start(ctx))
	return h
}

// froms records the first byte each request asked for.
type froms struct {
	mu sync.Mutex
	at []int64
}

func (f *froms) add(from int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = append(f.at, from)
	return len(f.at)
}

func (f *froms) list() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.at...)
}

// noEvent checks that the fetch is still active after d: no completion event came.
func noEvent(t *testing.T, h *harness, d time.Duration) {
	t.Helper()
	select {
	case s := <-h.rec.dispatch:
		t.Fatalf("the fetch ended while offline: %q %q", s.Result, s.FailureReason)
	case <-time.After(d):
	}
}

// A GET that fails while the browser is offline waits for the network and then completes, resuming
// from the stored bytes, however long the wait; the failures while offline do not count toward
// MaxAttempts (SPEC §3.3 step 5).
func TestOfflineRecordWaitsForTheNetwork(t *testing.T) {
	net := &switchNet{}
	var requests froms
	wentOffline := make(chan struct{}, 2)
	h := newNetHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
		switch requests.add(from) {
		case 1: // the connection drops after 40 bytes as the device goes offline
			net.set(true)
			wentOffline <- struct{}{}
			return dropAfter(40, "basic")
		case 2: // refused as the device goes offline again
			net.set(true)
			wentOffline <- struct{}{}
			return refusedFetch()
		case 3, 4: // two more refusals online: with the offline one counted, the record would fail
			return refusedFetch()
		}
		return partial(from, "basic")
	}), net)
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	for n := 1; n <= 2; n++ {
		<-wentOffline
		noEvent(t, h, 200*time.Millisecond)
		assert.Len(t, requests.list(), n, "requests sent while offline")
		net.set(false)
	}
	s := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, s.Result)
	assert.EqualValues(t, 100, s.Downloaded)
	assert.Equal(t, []int64{0, 30, 30, 30, 30}, requests.list(), "every retry resumes from the stored bytes (less the overlap)")
	assert.EqualValues(t, 2, net.waits.Load())
}

// Resumes of a cross-origin body that get no response fall back to the whole body on the last try
// (a server may refuse their preflight), but not when the network was gone: after the wait, the
// record resumes from its stored bytes.
func TestOfflineCrossOriginResumeKeepsItsRange(t *testing.T) {
	net := &switchNet{}
	var requests froms
	wentOffline := make(chan struct{}, 1)
	h := newNetHarness(t, fetchFunc(func(from int64) (*Response, Body, error) {
		switch requests.add(from) {
		case 1:
			return dropAfter(40, "cors")
		case 2:
			return refusedFetch()
		case 3: // the browser learns it is offline only now, at the try before the last
			net.set(true)
			wentOffline <- struct{}{}
			return refusedFetch()
		}
		return partial(from, "cors")
	}), net)
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	<-wentOffline
	noEvent(t, h, 100*time.Millisecond)
	net.set(false)
	s := h.rec.wait(t)
	assert.Equal(t, ResultSuccess, s.Result)
	assert.EqualValues(t, 100, s.Downloaded)
	assert.Equal(t, []int64{0, 30, 30, 30}, requests.list())
}

// A record refused after the network came back still fails after MaxAttempts in a row.
func TestOnlineRefusalsStillFail(t *testing.T) {
	var requests atomic.Int64
	h := newNetHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		requests.Add(1)
		return refusedFetch()
	}), &switchNet{})
	_, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	s := h.rec.wait(t)
	assert.Equal(t, ReasonFetchError, s.FailureReason)
	assert.EqualValues(t, 3, requests.Load())
}

// abort() ends a fetch whose records wait for the network; a request that is not a GET is not
// retried offline either.
func TestOfflineWaitEndsWithAbort(t *testing.T) {
	net := &switchNet{}
	net.set(true)
	var requests atomic.Int64
	h := newNetHarness(t, fetchFunc(func(int64) (*Response, Body, error) {
		requests.Add(1)
		return refusedFetch()
	}), net)
	snap, err := h.e.Fetch(context.Background(), "x", []Request{get("https://a/x")}, nil, Options{})
	require.NoError(t, err)
	noEvent(t, h, 50*time.Millisecond)
	require.EqualValues(t, 1, net.waits.Load(), "the record waits for the network")
	require.True(t, h.e.Abort(context.Background(), snap.UniqueID))
	assert.Equal(t, ReasonAborted, h.rec.wait(t).FailureReason)
	assert.EqualValues(t, 1, requests.Load())

	post := Request{URL: "https://a/p", Method: "POST", Mode: "cors"}
	_, err = h.e.Fetch(context.Background(), "y", []Request{post}, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, ReasonFetchError, h.rec.wait(t).FailureReason)
}
