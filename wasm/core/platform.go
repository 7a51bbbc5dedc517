package core

import (
	"context"
	"time"
)

// Chunk is an opaque piece of a response body; its bytes stay on the platform side.
type Chunk interface{ Len() int }

// Body streams a response body chunk by chunk.
type Body interface {
	// Next returns the next chunk, or io.EOF at the end of the body. A call ended by ctx takes
	// nothing: the chunk it was waiting for is the next call's.
	Next(ctx context.Context) (Chunk, error)
	// Skip reads the body's first len(want) bytes and reports whether they are want; the next
	// chunk starts after them.
	Skip(ctx context.Context, want []byte) (bool, error)
	// Cancel stops the stream and releases it.
	Cancel()
}

// Fetcher performs one network request with the browser's fetch().
type Fetcher interface {
	// Fetch sends req (with its stored body, if any), asking for bytes from rangeStart on
	// when it is non-zero, up to rangeEnd when that is too. It returns once the response headers
	// have arrived. A body that declares at most whole bytes may come as one chunk, read by the browser.
	Fetch(ctx context.Context, req *Request, body any, rangeStart, rangeEnd int64, ifRange string, whole int64) (*Response, Body, error)
}

// Segment is a run of body bytes stored as one value.
type Segment struct {
	Record     int
	Generation int
	Seq        int
	Chunks     []Chunk
	// Small: the segment is the whole body, of at most Config.WholeBody bytes. Such a body is stored
	// as its bytes rather than a Blob, which Firefox makes a file of and deletes at ~1.5 ms each (the
	// fan-out); a larger body's segments stay Blobs, which readers pin without copying them.
	Small bool
}

// Store persists fetch documents, request bodies and body segments (IndexedDB in a browser).
type Store interface {
	// Load returns every stored document, the fetches' and their records'.
	Load(ctx context.Context) ([][]byte, error)
	// Create stores the documents of a new fetch and its request bodies (by record index).
	Create(ctx context.Context, uniqueID string, docs []Doc, bodies map[int]any) error
	// Put replaces one document of a fetch and, if seg is not nil, stores seg in the same transaction.
	// The first segment of a generation (Seq 0) deletes the record's segments of earlier generations:
	// a body begun again from zero never reads them, and they would hold storage until the fetch ends.
	Put(ctx context.Context, uniqueID string, doc Doc, seg *Segment) error
	// Body returns the stored request body of a record.
	Body(ctx context.Context, uniqueID string, record int) (any, error)
	// Tail returns the last bytes, at most n, of the body a record's generation stores in its
	// segments up to seq last (a short last segment does not shorten it).
	Tail(ctx context.Context, uniqueID string, record, generation, last, n int) ([]byte, error)
	// Delete removes a fetch document with all its records, bodies and segments.
	Delete(ctx context.Context, uniqueID string) error
	// Sweep removes every fetch not in live with its records, bodies and segments: data a stop left behind,
	// and documents that could not be read (their data goes, so they could never be read whole).
	Sweep(ctx context.Context, live map[string]bool) error
}

// Notifier reaches the BackgroundFetchRegistration instances and the service worker's events.
type Notifier interface {
	// Update sends a snapshot to every instance of the fetch, in pages and in the worker.
	Update(s Snapshot)
	// Sync waits, within a bounded time, until pages have applied the updates sent so far.
	Sync(ctx context.Context, uniqueID string)
	// Dispatch fires a completion event and returns once it is no longer active. With event "" it
	// fires none, but still waits for the fetch's event if one an earlier engine fired is running.
	Dispatch(ctx context.Context, event string, s Snapshot) error
}

// Network tells whether the browser has a network connection.
type Network interface {
	// WaitOnline returns at once (waited false) unless the browser reports no network connection;
	// then it returns once the browser reports one (waited true), or with ctx's error.
	WaitOnline(ctx context.Context) (waited bool, err error)
}

// Clock is time, replaceable in tests.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Platform bundles what the engine needs from its host.
type Platform struct {
	Store    Store
	Fetcher  Fetcher
	Notifier Notifier
	Clock    Clock
	// Network is nil where the platform cannot tell: the network is then taken to be there.
	Network Network
	// NewID returns a fresh unique id for a fetch.
	NewID func() string
	// StorageAvailable returns how many bytes the origin may still store, if the platform knows.
	StorageAvailable func(ctx context.Context) (uint64, bool)
	// Logf reports problems that have no caller to return them to.
	Logf func(format string, args ...any)
}

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }
func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
