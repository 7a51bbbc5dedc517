package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worker's life around the engine: its database deleted under it, a new version installed, the
// registration removed.

// storageWiped checks what a page sees of fetch id once its storage is gone: its registration fails
// with fetch-error (as Chromium's do when storage is wiped), and its one request ends short.
func (s *session) storageWiped(id, path string) {
	t := s.t
	t.Helper()
	var cur snapshot
	assert.Eventually(t, func() bool {
		s.eval(&cur, `harness.current(%s)`, js(id))
		return cur.Result != ""
	}, 5*time.Second, 20*time.Millisecond, "the page's registration gets its result")
	assert.Equal(t, "failure", cur.Result)
	assert.Equal(t, "fetch-error", cur.FailureReason)
	require.Eventually(t, func() bool {
		log := s.requests(path)
		return len(log) == 1 && !log[0].End.IsZero()
	}, 10*time.Second, 50*time.Millisecond, "the fetch's request is aborted")
	assert.Less(t, s.requests(path)[0].Bytes, int64(32<<20))
}

// downloading starts fetch id of the 32 MiB file, sent at rate bytes a second, in scope ("" for the
// page's own), waits until it has stored bytes, and returns the path the server logs it under.
func (s *session) downloading(id, scope string, rate int) (path string) {
	s.t.Helper()
	path = fmt.Sprintf("/files/32m.bin?rate=%d&t=%s", rate, unique())
	if scope == "" {
		s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{path}))
	} else {
		s.eval(nil, `harness.start(%s, %s, {}, %s)`, js(id), js([]string{path}), js(scope))
	}
	s.waitDownloading(id)
	return path
}

// newFetchWorks checks that a fetch of path, started now as id, completes with its body.
func (s *session) newFetchWorks(id, path string) {
	t := s.t
	t.Helper()
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{path}))
	_, worker := s.finished(id, time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event, "a new fetch works afterwards")
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256(path), worker.Records[0].SHA256)
}

// An application that deletes the polyfill's database (clearing all of its storage) is not kept
// waiting by the worker: the engine lets go of it, its requests stop, and a new engine starts from
// what is stored, which is nothing.
func databaseDeletedWhileDownloading(s *session) {
	t := s.t
	path := s.downloading("deleted", "", 4194304) // about 8 s

	var del struct {
		Deleted, Blocked bool
		Error            string
	}
	s.eval(&del, `harness.deleteDatabase(5000)`)
	require.True(t, del.Deleted, "the database is deleted while the worker runs (blocked %v, error %q)", del.Blocked, del.Error)
	s.storageWiped("deleted", path)
	var ids []string
	s.eval(&ids, `harness.getIds()`)
	assert.NotContains(t, ids, "deleted", "the deleted fetch is gone with its data")

	s.newFetchWorks("after-delete", "/files/1m.bin?v=after-delete")
}

// A new version of the worker, installed while the active one downloads and left waiting (as by
// workers that do not call skipWaiting), runs no second engine beside the active one's: one
// request at a time for the file, and its body intact.
func newWorkerVersionWaits(s *session) {
	t := s.t
	const scope = "/update/"
	path := s.downloading("update", scope, 8388608) // about 4 s
	var state string
	s.eval(&state, `harness.update("v=2&wait=1&call=1", %s)`, js(scope))
	require.Equal(t, "installed", state, "the new version waits behind the active one")
	var ids any
	s.eval(&ids, `harness.installCall(%s)`, js(scope))
	assert.Equal(t, []any{"update"}, ids, "getIds() in the new version's install handler answers from the active worker")
	var cur snapshot
	s.eval(&cur, `harness.current("update")`)
	require.Less(t, cur.Downloaded, uint64(32<<20), "the download still runs once the new version has installed")

	_, worker := s.finished("update", 2*time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256("/files/32m.bin"), worker.Records[0].SHA256, "the body is intact (%d bytes)", worker.Records[0].Size)
	// A second engine would send requests for the rest of its own: one engine's windows may overlap
	// its current request, by design, but the first request and resumes go one at a time.
	var log []server.Entry
	for _, e := range s.requests(path) {
		if e.Range == "" || strings.HasSuffix(e.Range, "-") {
			log = append(log, e)
		}
	}
	for i := 1; i < len(log); i++ {
		assert.False(t, log[i].Start.Before(log[i-1].End), "request %d (%s) starts before request %d ended", i, log[i].Range, i-1)
	}
}

// An application adopting bgfetch in a new version of its worker: the active version does not run
// it, so calls in the new version's install handler are answered by the new version's own engine.
func adoptedInANewVersion(s *session) {
	t := s.t
	const scope = "/adopt/"
	var state string
	s.eval(&state, `harness.registerAt("native=1", %s)`, js(scope)) // without bgfetch
	require.Equal(t, "activated", state)
	s.eval(&state, `harness.update("v=2&wait=1&call=1", %s)`, js(scope))
	require.Equal(t, "installed", state, "the new version waits behind the active one")
	var ids any
	s.eval(&ids, `harness.installCall(%s)`, js(scope))
	assert.Equal(t, []any{}, ids, "getIds() in the install handler answers")
}

// Unregistering the worker ends its fetches, as in Chromium: the page's registration fails with
// fetch-error, the request stops, a new fetch() on the registration rejects, and nothing of the
// fetch stays stored, nor is the database created again.
func unregisterEndsFetches(s *session) {
	t := s.t
	const scope = "/gone/"
	path := s.downloading("gone", scope, 4194304) // about 8 s
	var ok bool
	s.eval(&ok, `harness.unregister(%s)`, js(scope))
	require.True(t, ok)
	s.storageWiped("gone", path)
	var name string
	s.eval(&name, `harness.fetchUnregistered("after", ["/files/1k.bin"])`)
	assert.Equal(t, "TypeError", name, "fetch() on the unregistered registration rejects, as in Chromium")
	s.notRecreated(scope)
}

// The same when the worker unregisters itself (a kill switch), and then tries a new fetch.
func workerUnregistersItself(s *session) {
	t := s.t
	const scope = "/self/"
	path := s.downloading("self", scope, 4194304) // about 8 s
	var got struct {
		OK    bool
		After string
	}
	s.eval(&got, `harness.unregisterFromWorker(%s, "self-after", ["/files/1k.bin"])`, js(scope))
	require.True(t, got.OK)
	assert.Equal(t, "TypeError", got.After, "fetch() after unregistering rejects, as in Chromium")
	s.storageWiped("self", path)
	s.notRecreated(scope)
}

// Unregistering a worker that is not running: the message that tells it wakes it, and its engine
// opens the database as it starts, maybe after the page has deleted it; the worker, once told the
// registration is gone, deletes it again. Chromium only (DevTools stops the worker).
func idleWorkerUnregistered(s *session, stop func()) {
	t := s.t
	const scope = "/idle/"
	s.smallFetchSucceeds("idle", scope)
	stop()
	var ok bool
	s.eval(&ok, `harness.unregister(%s)`, js(scope))
	require.True(t, ok)
	s.notRecreated(scope)
}

// Another tab unregisters while the worker is stopped mid-download: the worker, woken to be
// retired, may not start its engine before the database goes, so nothing in it tells this page; the
// unregistering realm does, and this page's registration fails with fetch-error. Chromium only.
func unregisteredElsewhereWhileStopped(s *session, stop func()) {
	t := s.t
	const scope = "/elsewhere/"
	s.downloading("elsewhere", scope, 2<<20) // 32 MiB: 16 s
	stop()
	var ok bool
	s.eval(&ok, `harness.unregisterElsewhere(%s)`, js(scope))
	require.True(t, ok)
	s.failsWithFetchError("elsewhere", 5*time.Second)
	s.notRecreated(scope)
}

// The usual kill switch: unregister() without waiting, then leave the page at once. The browser's
// unregister must not wait for the worker's answer and the database's deletion the page would not
// live to see: the registration goes, as it does natively. stop (nil where the browser cannot)
// stops the worker first, whose start then makes that wait longest.
func unregisterAndLeave(s *session, stop func()) {
	t := s.t
	const scope = "/kill/"
	path := s.downloading("kill", scope, 2<<20) // 32 MiB: 16 s
	if stop != nil {
		stop()
	}
	s.eval(nil, `harness.unregisterAndLeave(%s)`, js(scope))
	require.Eventually(t, func() bool {
		var registered bool
		s.eval(&registered, `harness.registered(%s)`, js(scope))
		return !registered
	}, 5*time.Second, 50*time.Millisecond, "the registration is gone")
	if stop == nil {
		s.storageWiped("kill", path)
	}
	s.notRecreated(scope)
}

// A second unregister() of a registration a client keeps (the browser answers false: it is gone)
// leaves its worker retired: it used to start its engine again, creating the database anew.
func unregisterTwice(s *session) {
	t := s.t
	const scope = "/twice/"
	s.smallFetchSucceeds("twice", scope)
	var answers []bool
	s.eval(&answers, `harness.unregisterTwice(%s)`, js(scope))
	require.Equal(t, []bool{true, false}, answers)
	s.notRecreated(scope)
	s.eval(nil, `harness.closeFrame("controlled")`)
}

// unregister() and then register() again while a frame keeps the registration: Chromium keeps it,
// with the same (retired) worker, which takes calls again (fetch() used to reject with TypeError);
// Firefox and WebKit install a new worker. Either way a new fetch completes.
func registerAgain(s *session) {
	t := s.t
	const scope = "/again/"
	s.smallFetchSucceeds("before", scope)
	var answers []bool
	s.eval(&answers, `harness.unregisterThenRegister(%s)`, js(scope))
	require.Len(t, answers, 2)
	require.True(t, answers[0], "unregistered")
	if strings.HasPrefix(s.cfg.name, "chromium") {
		require.True(t, answers[1], "Chromium keeps the registration with the same worker")
	}
	s.smallFetchSucceeds("again", scope)
	s.eval(nil, `harness.closeFrame("controlled")`)
}

// The engine's database deleted while its worker is stopped (an application clearing its storage):
// the next engine knows nothing of the fetch, and the page's registration fails with fetch-error
// once that engine's roll call has been answered. It used to stay unsettled for good.
func databaseDeletedWhileStopped(s *session, stop func()) {
	t := s.t
	const scope = "/cleared/"
	s.downloading("cleared", scope, 2<<20) // 32 MiB: 16 s
	stop()
	var out struct{ Deleted bool }
	s.eval(&out, `harness.deleteDatabase(5000, %s)`, js(scope))
	require.True(t, out.Deleted)
	var ids []string
	s.eval(&ids, `harness.getIds(%s)`, js(scope)) // the worker starts again
	assert.Empty(t, ids)
	s.failsWithFetchError("cleared", 15*time.Second)
}

// failsWithFetchError requires this page's registration id to fail with fetch-error, its records
// unavailable (its data gone), within d.
func (s *session) failsWithFetchError(id string, d time.Duration) {
	s.t.Helper()
	require.Eventually(s.t, func() bool {
		var cur snapshot
		s.eval(&cur, `harness.current(%s)`, js(id))
		return cur.Result == "failure" && cur.FailureReason == "fetch-error" && !cur.RecordsAvailable
	}, d, 50*time.Millisecond, "the page's registration fails with fetch-error")
}

// smallFetchSucceeds fetches a 1 KiB file as id in scope and requires its backgroundfetchsuccess.
func (s *session) smallFetchSucceeds(id, scope string) {
	s.t.Helper()
	s.eval(nil, `harness.start(%s, ["/files/1k.bin"], {}, %s)`, js(id), js(scope))
	_, worker := s.finished(id, time.Minute)
	require.Equal(s.t, "backgroundfetchsuccess", worker.Event)
}

// notRecreated checks that scope's database, deleted by unregister(), stays deleted.
func (s *session) notRecreated(scope string) {
	s.t.Helper()
	time.Sleep(2 * time.Second) // an engine started again would have created its database by now
	var stored map[string]int
	s.eval(&stored, `harness.stored(%s)`, js(scope))
	assert.Nil(s.t, stored, "the database is not created again for a registration that is gone")
}

// Site data cleared by the browser mid-download (Chromium's Storage.clearDataForOrigin, which closes
// the engine's connection): the fetch fails with fetch-error, and a new fetch works.
func siteDataCleared(s *session) {
	t := s.t
	path := s.downloading("cleared", "", 4194304) // about 8 s
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.b.(*browser.Chromium).ClearStorage(ctx, s.origin, "indexeddb"))
	s.storageWiped("cleared", path)

	s.newFetchWorks("after-clear", "/files/1m.bin?v=after-clear")
}

// The module a worker keeps for offline starts goes with the origin's last registration, in a
// session of its own (every later test would need the worker again). Chromium.
func TestTheKeptModuleGoesWithTheLastRegistration(t *testing.T) {
	s := newSession(t, configs[0])
	var ids []string
	s.eval(&ids, `harness.getIds()`) // the engine starts, and keeps its module a second later
	require.Eventually(t, func() bool {
		var kept bool
		s.eval(&kept, `harness.moduleKept()`)
		return kept
	}, 30*time.Second, 250*time.Millisecond, "the worker keeps its module")
	var ok bool
	s.eval(&ok, `harness.unregister("/")`)
	require.True(t, ok)
	assert.Eventually(t, func() bool {
		var kept bool
		s.eval(&kept, `harness.moduleKept()`)
		return !kept
	}, 10*time.Second, 100*time.Millisecond, "nothing of bgfetch stays stored once the origin has no registration")
}
