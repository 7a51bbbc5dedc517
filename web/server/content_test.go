package server_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bgfetch/bgfetch/web/server"
)

func TestFileContentReadAtIsConsistent(t *testing.T) {
	const size = 200_000 // spans several blocks and ends in a short one
	c := server.FileContent("/files/200000", "1", size)
	full := make([]byte, size)
	n, err := c.ReadAt(full, 0)
	require.NoError(t, err)
	require.Equal(t, size, n)

	for _, r := range [][2]int64{{0, 1}, {65530, 65545}, {1000, 140000}, {size - 7, size}} {
		part := make([]byte, r[1]-r[0])
		_, err := c.ReadAt(part, r[0])
		require.NoError(t, err)
		assert.Equal(t, full[r[0]:r[1]], part, "range %v", r)
	}

	viaSection, err := io.ReadAll(io.NewSectionReader(c, 0, size))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(full, viaSection))
}

func TestFileContentEOFAndBounds(t *testing.T) {
	c := server.FileContent("/files/10", "", 10)
	buf := make([]byte, 8)
	n, err := c.ReadAt(buf, 5)
	assert.Equal(t, 5, n)
	assert.ErrorIs(t, err, io.EOF)
	n, err = c.ReadAt(buf, 10)
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
	_, err = c.ReadAt(buf, -1)
	assert.Error(t, err)
}

func TestFileContentDependsOnPathAndVersion(t *testing.T) {
	read := func(path, v string) []byte {
		buf := make([]byte, 64)
		_, err := server.FileContent(path, v, 64).ReadAt(buf, 0)
		require.NoError(t, err)
		return buf
	}
	assert.Equal(t, read("/files/64", "1"), read("/files/64", ""), `"" means version 1`)
	assert.NotEqual(t, read("/files/64", "1"), read("/files/64", "2"))
	assert.NotEqual(t, read("/files/64", "1"), read("/files/64.bin", "1"))
}

func TestFileContentHugeOffsetIsCheap(t *testing.T) {
	const size = 8 << 30
	buf := make([]byte, 100)
	n, err := server.FileContent("/files/8g", "1", size).ReadAt(buf, size-50)
	assert.Equal(t, 50, n)
	assert.ErrorIs(t, err, io.EOF)
}
