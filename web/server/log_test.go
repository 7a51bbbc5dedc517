package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

func TestLogRecordsFileRequests(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.get("/files/1k?v=3", "Range", "bytes=0-99", "If-Range", `"x"`)
	f.get("/files/2k", "Range", "bytes=10-19")
	f.get("/files/1k", "Range", "bytes=9999-")
	f.get("/status/404") // not a /files/ request: not logged

	want := []server.Entry{
		{Method: "GET", Path: "/files/1k", RawQuery: "v=3", Range: "bytes=0-99", IfRange: `"x"`, Status: 200, Bytes: 1024},
		{Method: "GET", Path: "/files/2k", Range: "bytes=10-19", Status: 206, Bytes: 10},
		{Method: "GET", Path: "/files/1k", Range: "bytes=9999-", Status: 416, Bytes: 0},
	}
	assert.Equal(t, want, untimed(t, f.srv.Log()))

	resp, body := f.get("/log")
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var fromJSON []server.Entry
	require.NoError(t, json.Unmarshal(body, &fromJSON))
	assert.Equal(t, want, untimed(t, fromJSON))
	assert.Contains(t, string(body), `"rawQuery":"v=3"`)
	assert.Contains(t, string(body), `"ifRange":"\"x\""`)

	resp, _ = f.do(http.MethodPost, "/log/reset")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, f.srv.Log())
	_, body = f.get("/log")
	assert.JSONEq(t, `[]`, string(body))

	resp, _ = f.get("/log/reset")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestLogCopyIsIndependent(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.get("/files/1")
	log := f.srv.Log()
	log[0].Status = 999
	assert.Equal(t, 200, f.srv.Log()[0].Status)
	f.srv.ResetLog()
	assert.Empty(t, f.srv.Log())
}

// untimed checks each entry's start and end times and clears them for comparison.
func untimed(t *testing.T, log []server.Entry) []server.Entry {
	t.Helper()
	for i := range log {
		assert.False(t, log[i].Start.IsZero(), "entry %d has a start time", i)
		assert.False(t, log[i].End.Before(log[i].Start), "entry %d ends after it starts", i)
		log[i].Start, log[i].End = time.Time{}, time.Time{}
	}
	return log
}
