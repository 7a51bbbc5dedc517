package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

// length=n sends the body chunked under a Content-Length that is not its length; read off the
// wire, since Go's client (like a browser) drops the length of a chunked response.
func TestLengthDeclaredOverAChunkedBody(t *testing.T) {
	f := newFixture(t, server.Options{})
	for _, declared := range []string{"100", "9000"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.ts.URL, "http://"))
		require.NoError(t, err)
		_, err = io.WriteString(conn, "GET /files/4k?length="+declared+" HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		r := bufio.NewReader(conn)
		var head []string
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if line == "\r\n" {
				break
			}
			head = append(head, strings.TrimRight(line, "\r\n"))
		}
		assert.Equal(t, "HTTP/1.1 200 OK", head[0])
		assert.Contains(t, head, "Content-Length: "+declared)
		assert.Contains(t, head, "Transfer-Encoding: chunked")
		body, err := io.ReadAll(httputil.NewChunkedReader(r))
		require.NoError(t, err)
		assert.Equal(t, expected(t, "/files/4k", "", 4096, 0, 4096), body, "the whole file, whatever the length says")
		conn.Close()
	}
	log := f.srv.Log()
	require.Len(t, log, 2)
	assert.Equal(t, int64(4096), log[0].Bytes)
}

func TestLengthMustBeANumber(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, _ := f.get("/files/1k?length=x")
	assert.Equal(t, 400, resp.StatusCode)
}
