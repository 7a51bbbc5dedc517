package e2e

import (
	"context"
	"fmt"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offlineVia is offlineWaitsForTheNetwork with set as the way to take the worker's network away.
func offlineVia(set func(ctx context.Context, offline bool) error) func(*session) {
	return func(s *session) {
		offlineWaitsForTheNetwork(s, func(offline bool) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(s.t, set(ctx, offline))
		})
	}
}

// A download that loses the network waits for it, however long, and then resumes from the stored
// bytes (SPEC §3.3 step 5: a GET that fails for want of a network waits for connectivity). It
// used to fail with fetch-error after three attempts, about 1.5 s. setOffline takes the worker's
// network away (true) and gives it back. Chromium's emulation fails new requests and leaves one in
// flight silent, so the server drops the first connection after the network has gone. Firefox's
// offline mode still reaches the loopback server: there, no request while offline is the check.
func offlineWaitsForTheNetwork(s *session, setOffline func(bool)) {
	t := s.t
	const cut = 3000000
	path := fmt.Sprintf("/files/8m.bin?rate=2097152&drop=%d&t=%s", cut, unique()) // the drop ~1.4 s in
	s.eval(nil, `harness.start("offline", %s)`, js([]string{path}))
	var at snapshot
	require.Eventually(t, func() bool {
		s.eval(&at, `harness.current("offline")`)
		return at.Downloaded > 0
	}, time.Minute, 20*time.Millisecond, "the download gets going")

	restored := false
	defer func() { // even after a failure to go offline, which may have reached some workers
		if !restored {
			setOffline(false)
		}
	}()
	setOffline(true)
	var onLine bool
	s.eval(&onLine, `harness.workerOnLine()`)
	require.False(t, onLine, "the emulation reaches the worker")
	require.Eventually(t, func() bool { return len(s.requests(path)) > 0 }, time.Minute, 50*time.Millisecond,
		"the server drops the connection")
	// The emulation hides the drop: the stall timeout (3 s in the test worker) ends the attempt, and
	// then three attempts with their backoff took 1.5 s.
	time.Sleep(6 * time.Second)
	s.eval(&at, `harness.current("offline")`)
	assert.Empty(t, at.Result, "the fetch is still active while offline: %+v", at)
	assert.Len(t, s.requests(path), 1, "no request reached the server while offline")

	setOffline(false)
	restored = true
	monotonic(t, s.succeeded("offline", faultSize, s.sha256("/files/8m.bin")), 0)
	s.eval(&onLine, `harness.workerOnLine()`)
	assert.True(t, onLine)

	log := s.requests(path)
	require.Len(t, log, 2, "one request once the network was back")
	assert.EqualValues(t, cut, log[0].Bytes)
	assert.Regexp(t, `^bytes=[1-9]\d*-$`, log[1].Range, "it resumed from the stored bytes")
	assert.Equal(t, 206, log[1].Status)
	assert.LessOrEqual(t, refetched(log, faultSize), int64(segmentSize), "at most a segment is fetched twice")
}
