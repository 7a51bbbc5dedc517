package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshot is a BackgroundFetchRegistration as the page sees it.
type snapshot struct {
	ID, Result, FailureReason string
	UploadTotal, Uploaded     uint64
	DownloadTotal, Downloaded uint64
	RecordsAvailable          bool
}

type record struct {
	URL, Method, Type, Error, SHA256 string
	Status                           int
	Size                             int64
	ContentLength                    *string
}

// entry is one line of the page's log: a progress event or the worker's completion report.
type entry struct {
	Kind, Event, Scope string
	At                 float64 // ms since the epoch: the page's progress event, the worker's dispatch
	snapshot
	IsUpdateUI bool
	Records    []record
	PageView   *snapshot
	Observed   map[string]any // what the worker's handler saw (testdata/site/sw.js)
}

// finished waits for the completion event of id and splits the page's log.
func (s *session) finished(id string, timeout time.Duration) (progress []entry, worker entry) {
	s.t.Helper()
	var log []entry
	s.eval(&log, `harness.finished(%s, %d)`, js(id), timeout.Milliseconds())
	for i, e := range log {
		switch e.Kind {
		case "progress":
			progress = append(progress, e)
		case "worker":
			worker = e
			require.Equal(s.t, len(log)-1, i, "nothing is logged after the completion event: %+v", log[i:])
		}
	}
	return progress, worker
}

// waitDownloading waits until the page's registration for id has stored bytes.
func (s *session) waitDownloading(id string) {
	s.t.Helper()
	require.Eventually(s.t, func() bool {
		var cur snapshot
		s.eval(&cur, `harness.current(%s)`, js(id))
		return cur.Downloaded > 0
	}, 30*time.Second, 50*time.Millisecond, "%s starts downloading", id)
}

// TestScenarios runs every scenario in every configuration: the polyfill in Chromium (native
// API disabled) and in Firefox ESR, and native Chromium as the reference implementation.
func TestScenarios(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			s := newSession(t, cfg)
			t.Run("ThreeFilesSucceed", func(t *testing.T) { s.t = t; threeFilesSucceed(s) })
			t.Run("NotFoundFailsWithBadStatus", func(t *testing.T) { s.t = t; notFoundFails(s) })
			t.Run("ReloadDuringDownload", func(t *testing.T) { s.t = t; reloadDuringDownload(s) })
			t.Run("OtherWindowsDoNotDelayEvents", func(t *testing.T) { s.t = t; otherWindows(s) })
			t.Run("GetDuringDownloadNeverMovesProgressBack", func(t *testing.T) { s.t = t; getDuringDownload(s) })
			t.Run("RecordsTakenOnTheResultStayReadable", func(t *testing.T) { s.t = t; recordsOnResult(s) })
			if !cfg.native {
				t.Run("EngineCrashIsRecovered", func(t *testing.T) { s.t = t; engineCrashIsRecovered(s, "crash") })
				t.Run("EngineTrapIsRecovered", func(t *testing.T) { s.t = t; engineCrashIsRecovered(s, "trap") })
				t.Run("HeldEventOutlivesAnEngineCrash", func(t *testing.T) { s.t = t; heldEventOutlivesAnEngineCrash(s) })
				t.Run("AnEventPastItsLimitEnds", func(t *testing.T) { s.t = t; eventPastItsLimit(s) })
			}
		})
	}
}

func threeFilesSucceed(s *session) {
	t := s.t
	paths := []string{"/files/1k.bin", "/files/1m.bin", "/files/32m.bin"}
	const total = 1024 + 1<<20 + 32<<20
	var start snapshot
	s.eval(&start, `harness.start("three", %s)`, js(paths))
	assert.Equal(t, snapshot{ID: "three", RecordsAvailable: true, Downloaded: start.Downloaded}, start)
	var ids []string
	s.eval(&ids, `harness.getIds()`)
	if start.Result == "" {
		assert.Contains(t, ids, "three")
	}

	progress, worker := s.finished("three", 2*time.Minute)
	require.NotEmpty(t, progress, "progress events reach the page")
	var last uint64
	for _, p := range progress {
		assert.GreaterOrEqual(t, p.Downloaded, last, "downloaded never goes down")
		last = p.Downloaded
	}
	final := progress[len(progress)-1]
	assert.EqualValues(t, total, final.Downloaded, "downloaded ends at the total")
	assert.Equal(t, "success", final.Result, "the last progress event carries the result, before the worker's event")
	assert.Equal(t, "", final.FailureReason)

	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	assert.True(t, worker.IsUpdateUI, "success is a BackgroundFetchUpdateUIEvent")
	assert.Equal(t, "success", worker.Result)
	assert.True(t, worker.RecordsAvailable, "records are available during the event")
	assert.EqualValues(t, total, worker.Downloaded)
	require.NotNil(t, worker.PageView)
	assert.Equal(t, "success", worker.PageView.Result, "the page's registration has the result when the worker reports")
	require.Len(t, worker.Records, 3)
	byURL := map[string]record{}
	for _, r := range worker.Records {
		byURL[r.URL] = r
	}
	for _, p := range paths {
		r, ok := byURL[s.origin+p]
		require.True(t, ok, "a record for %s", p)
		assert.Empty(t, r.Error, p)
		assert.Equal(t, 200, r.Status, p)
		assert.Equal(t, s.sha256(p), r.SHA256, "body of %s is byte-identical", p)
	}

	// After the event settles the id is free and records are unavailable.
	s.eval(&ids, `harness.getIds()`)
	assert.NotContains(t, ids, "three")
	var got any
	s.eval(&got, `harness.get("three")`)
	assert.Equal(t, "undefined", got)
	assert.Eventually(t, func() bool {
		var cur snapshot
		s.eval(&cur, `harness.current("three")`)
		return !cur.RecordsAvailable
	}, 10*time.Second, 100*time.Millisecond, "recordsAvailable becomes false once the event settled")
}

func notFoundFails(s *session) {
	t := s.t
	paths := []string{"/files/1k.bin?v=404", "/status/404"}
	s.eval(nil, `harness.start("missing", %s)`, js(paths))
	progress, worker := s.finished("missing", time.Minute)
	require.NotEmpty(t, progress)
	final := progress[len(progress)-1]
	assert.Equal(t, "failure", final.Result)
	assert.Equal(t, "bad-status", final.FailureReason)

	assert.Equal(t, "backgroundfetchfail", worker.Event, "reported through self.onbackgroundfetchfail")
	assert.True(t, worker.IsUpdateUI)
	assert.Equal(t, "failure", worker.Result)
	assert.Equal(t, "bad-status", worker.FailureReason)
	require.Len(t, worker.Records, 2)
	byURL := map[string]record{}
	for _, r := range worker.Records {
		byURL[r.URL] = r
	}
	s.expect("matchall-request-order", worker.Records[0].URL == s.origin+paths[0],
		"matchAll() returns records in request order, got %s first", worker.Records[0].URL)
	ok := byURL[s.origin+paths[0]]
	assert.Equal(t, 200, ok.Status)
	assert.Equal(t, s.sha256(paths[0]), ok.SHA256)
	nf := byURL[s.origin+paths[1]]
	assert.Empty(t, nf.Error, "a 404 response is exposed")
	assert.Equal(t, 404, nf.Status)
	s.expect("bad-status-body-stored", nf.SHA256 == s.sha256(paths[1]), "the 404 body is stored (%d bytes read)", nf.Size)
	s.expect("bad-status-body-counted", worker.Downloaded == 2048, "the 404 body is counted: downloaded %d", worker.Downloaded)
}

func reloadDuringDownload(s *session) {
	t := s.t
	path := "/files/32m.bin?rate=6291456&t=" + fmt.Sprint(time.Now().UnixNano()) // about 5 s
	s.eval(nil, `harness.start("reload", %s)`, js([]string{path}))
	s.waitDownloading("reload")

	s.open() // a new page: the old registration object is gone
	var again snapshot
	s.eval(&again, `harness.get("reload")`)
	assert.Equal(t, "reload", again.ID, "get(id) in the new page finds the running fetch")
	assert.Greater(t, again.Downloaded, uint64(0), "with its progress")
	assert.Equal(t, "", again.Result)

	progress, worker := s.finished("reload", 2*time.Minute)
	require.NotEmpty(t, progress, "the new page's registration receives progress")
	final := progress[len(progress)-1]
	assert.Equal(t, "success", final.Result)
	assert.EqualValues(t, 32<<20, final.Downloaded)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256("/files/32m.bin"), worker.Records[0].SHA256, "the content depends on the path and v only")
	log := s.requests(path)
	require.NotEmpty(t, log)
	assert.Empty(t, log[0].Range)
	assert.Empty(t, resumes(log), "a reload does not interrupt the worker's download (windows may follow the first request)")
}

// A panic in Go ends the wasm instance ("crash"), and a JS exception thrown through its frames
// ("trap") tears it mid-step; either way the shim starts a new one, which resumes the download.
func engineCrashIsRecovered(s *session, op string) {
	t := s.t
	id := op
	path := "/files/32m.bin?rate=8388608&t=" + fmt.Sprint(time.Now().UnixNano())
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{path}))
	s.waitDownloading(id)
	var before []string
	s.eval(&before, `harness.workerErrors()`)
	s.eval(nil, `harness.crashEngine(%s)`, js(op))
	var ids []string
	s.eval(&ids, `harness.getIds()`)
	assert.Contains(t, ids, id, "a new engine answers and recovered the fetch")

	progress, worker := s.finished(id, 2*time.Minute)
	var errs []string
	s.eval(&errs, `harness.workerErrors()`)
	for _, e := range errs[len(before):] {
		assert.Contains(t, e, "trap requested by a test", "the exited instance gets no more calls (its channel is closed)")
	}
	require.NotEmpty(t, progress)
	var last uint64
	for _, p := range progress {
		assert.GreaterOrEqual(t, p.Downloaded, last, "a resumed download does not go back")
		last = p.Downloaded
	}
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256("/files/32m.bin"), worker.Records[0].SHA256)
	ranged := 0
	for _, e := range s.files.Log() {
		// A resume asks for the rest; windows (bounded ranges) may follow it if storing falls behind.
		if e.Path == "/files/32m.bin" && strings.HasSuffix(e.Range, "-") && e.RawQuery == path[len("/files/32m.bin?"):] {
			ranged++
		}
	}
	assert.Equal(t, 1, ranged, "the new engine resumed with one Range request")
}

// A completion event still running when the Go instance exits is not sent a second time by the
// new instance, which finds the fetch's event unsettled: it waits for the running one. Three exits
// in a row (past the bound on events sent again) leave its records to it too.
func heldEventOutlivesAnEngineCrash(s *session) {
	t := s.t
	id := "hold.crash-" + unique()
	s.eval(nil, `harness.start(%s, ["/files/1k.bin"])`, js(id))
	holds := func() (n int) { s.eval(&n, `harness.holds(%s)`, js(id)); return n }
	require.Eventually(t, func() bool { return holds() == 1 }, 30*time.Second, 50*time.Millisecond, "the event is dispatched and held")
	for i := 0; i < 3; i++ {
		s.eval(nil, `harness.crashEngine()`)
		var ids []string
		s.eval(&ids, `harness.getIds()`) // a new engine answers
		time.Sleep(500 * time.Millisecond)
	}
	var reports []entry
	s.eval(&reports, `harness.reports(%s)`, js(id))
	assert.Empty(t, reports, "no second event while the first is held")
	s.eval(nil, `harness.release(%s)`, js(id))
	_, worker := s.finished(id, time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256("/files/1k.bin"), worker.Records[0].SHA256, "records stay readable across the new engine")
	time.Sleep(time.Second)
	s.eval(&reports, `harness.reports(%s)`, js(id))
	assert.Len(t, reports, 1, "one event")
	s.nothingStored()
}

// A completion event whose waitUntil promise never settles ends at the engine's limit (eventLimit,
// 1.5 s for the /limit/ scope's worker): its records go, and the event takes no more calls.
func eventPastItsLimit(s *session) {
	t := s.t
	const scope = "/limit/"
	id := "outlive." + unique()
	s.eval(nil, `harness.start(%s, ["/files/1k.bin"], {}, %s)`, js(id), js(scope))
	_, worker := s.finished(id, time.Minute)
	require.Equal(t, "backgroundfetchsuccess", worker.Event)
	assert.Equal(t, map[string]any{"updateUI": "rejected:InvalidStateError", "waitUntil": "threw:InvalidStateError",
		"recordsAvailable": false}, worker.Observed["after"], "after the limit")
	s.nothingStored(scope)
}

// A window of the origin that does not run bgfetch (another tab of the site) never acknowledges
// the final update, so the completion event must not wait for it.
func otherWindows(s *session) {
	t := s.t
	s.eval(nil, `harness.plainWindow(true)`)
	defer s.eval(nil, `harness.plainWindow(false)`)
	var ids []string
	s.eval(&ids, `harness.getIds()`) // the engine is up a while before the fetch, past its roll call
	time.Sleep(1500 * time.Millisecond)
	s.eval(nil, `harness.start("other-windows", ["/files/32m.bin"])`)
	progress, worker := s.finished("other-windows", time.Minute)
	require.NotEmpty(t, progress)
	last := progress[len(progress)-1]
	require.Equal(t, "success", last.Result)
	require.Positive(t, worker.At)
	t.Logf("final progress event → worker's event: %.0f ms", worker.At-last.At)
	assert.Less(t, worker.At-last.At, 350.0,
		"ms from the page's final progress event to the worker's event (a window that never acknowledges held it 500 ms)")
}

// A page that calls get() over and over while the bytes flow (a UI refreshing its view) sees
// downloaded only grow: an answer taken before an update it arrives after must not move it back.
func getDuringDownload(s *session) {
	t := s.t
	const id = "get-during"
	path := fmt.Sprintf("/files/32m.bin?rate=%d&t=%s", 10<<20, unique())
	s.eval(nil, `harness.start(%s, [%s])`, js(id), js(path))
	s.waitDownloading(id)
	var answers int
	s.eval(&answers, `harness.pollGet(%s, 2000, 8)`, js(id))
	progress, worker := s.finished(id, time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.NotEmpty(t, progress)
	t.Logf("%d answers to get(), %d progress events", answers, len(progress))
	assert.Greater(t, answers, 20)
	for i := 1; i < len(progress); i++ {
		assert.GreaterOrEqual(t, progress[i].Downloaded, progress[i-1].Downloaded, "progress event %d of %d", i, len(progress))
	}
	assert.EqualValues(t, 32<<20, progress[len(progress)-1].Downloaded)
}

// Records taken with matchAll() in the listener of the progress event that carries the result (a
// common way to wait for a download) stay readable after the worker's event, when the fetch's data
// is deleted.
func recordsOnResult(s *session) {
	t := s.t
	const id = "on-result"
	paths := []string{"/files/1k.bin", "/files/1m.bin"}
	s.eval(nil, `harness.start(%s, %s).then(() => harness.matchOnResult(%[1]s))`, js(id), js(paths))
	_, worker := s.finished(id, time.Minute)
	require.Equal(t, "backgroundfetchsuccess", worker.Event)
	time.Sleep(time.Second) // the data is deleted once the event is done
	var read []struct {
		URL, SHA256 string
		Size        int64
	}
	s.eval(&read, `harness.readOnResult(%s)`, js(id))
	require.Len(t, read, len(paths))
	// By URL: native Chromium's record order varies (conformance checks the order: matchall-request-order).
	byURL := map[string]string{}
	for _, r := range read {
		byURL[r.URL] = r.SHA256
	}
	for _, p := range paths {
		assert.Equal(t, s.sha256(p), byURL[s.origin+p], p)
	}
}
