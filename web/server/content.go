package server

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// blockSize is the unit of generation: any byte range costs at most two extra partial blocks.
const blockSize = 64 << 10

// blockPool recycles generation buffers so multi-GiB responses stay allocation-free.
var blockPool = sync.Pool{New: func() any { return new([blockSize]byte) }}

// epoch anchors Last-Modified; a fixed base keeps validators stable across restarts.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Content is the deterministic body of a /files/ resource; it implements io.ReaderAt.
type Content struct {
	path, version string
	size          int64
}

// FileContent returns the body served for the request path (e.g. "/files/1k.bin") at
// version (query parameter "v"; "" means the default "1") with the given size.
func FileContent(path, version string, size int64) *Content {
	if version == "" {
		version = "1"
	}
	return &Content{path: path, version: version, size: max(size, 0)}
}

// Size returns the length of the content in bytes.
func (c *Content) Size() int64 { return c.size }

// ETag returns the strong entity tag (quoted) for this path and version.
func (c *Content) ETag() string {
	id := c.identity()
	return `"` + hex.EncodeToString(id[:8]) + `"`
}

// LastModified returns a fixed time that differs between versions.
func (c *Content) LastModified() time.Time {
	id := c.identity()
	offset := binary.BigEndian.Uint32(id[8:12]) % (365 * 24 * 3600)
	return epoch.Add(time.Duration(offset) * time.Second)
}

// ReadAt implements io.ReaderAt.
func (c *Content) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("server: negative offset")
	}
	n := 0
	for n < len(p) && off < c.size {
		index := off / blockSize
		within := int(off - index*blockSize)
		length := c.blockLen(index)
		if within == 0 && len(p)-n >= length {
			// Whole block fits: generate in place and skip the copy.
			c.fillBlock(index, p[n:n+length])
			n += length
			off += int64(length)
			continue
		}
		buf := blockPool.Get().(*[blockSize]byte)
		c.fillBlock(index, buf[:length])
		m := copy(p[n:], buf[within:length])
		blockPool.Put(buf)
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// writeRange writes bytes [start, end) to w block by block.
func (c *Content) writeRange(w io.Writer, start, end int64) (int64, error) {
	buf := blockPool.Get().(*[blockSize]byte)
	defer blockPool.Put(buf)
	var written int64
	for off := start; off < end; {
		index := off / blockSize
		length := c.blockLen(index)
		c.fillBlock(index, buf[:length])
		from := int(off - index*blockSize)
		to := int(min(int64(length), end-index*blockSize))
		n, err := w.Write(buf[from:to])
		written += int64(n)
		if err != nil {
			return written, err
		}
		off += int64(to - from)
	}
	return written, nil
}

// blockLen is blockSize except for the final, possibly short, block.
func (c *Content) blockLen(index int64) int {
	return int(min(blockSize, c.size-index*blockSize))
}

// fillBlock generates block index into dst; seeding per block makes blocks independent.
func (c *Content) fillBlock(index int64, dst []byte) {
	seed := sha256.Sum256([]byte(c.path + "|" + c.version + "|" + strconv.FormatInt(index, 10)))
	_, _ = rand.NewChaCha8(seed).Read(dst)
}

// identity is SHA-256(path|v), from which the validators are derived.
func (c *Content) identity() [32]byte {
	return sha256.Sum256([]byte(c.path + "|" + c.version))
}
