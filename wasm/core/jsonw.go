package core

import "strconv"

// jsonWriter appends JSON straight to bytes. A document is written with every stored segment and
// record result; building a fastjson tree first cost more CPU than the write (README, Performance).
type jsonWriter struct {
	b   []byte
	sep bool // a value ends here: the next one at this level needs a comma
}

func (w *jsonWriter) comma() {
	if w.sep {
		w.b = append(w.b, ',')
	}
}

// begin opens an object ('{') or array ('[') as the next value.
func (w *jsonWriter) begin(c byte) *jsonWriter {
	w.comma()
	w.b, w.sep = append(w.b, c), false
	return w
}

func (w *jsonWriter) end(c byte) { w.b, w.sep = append(w.b, c), true }

// key writes an object key, a literal of the code that needs no escaping; the value written next
// belongs to it.
func (w *jsonWriter) key(k string) *jsonWriter {
	w.comma()
	w.b = append(append(append(w.b, '"'), k...), '"', ':')
	w.sep = false
	return w
}

func (w *jsonWriter) str(s string) {
	w.comma()
	w.b, w.sep = AppendJSONString(w.b, s), true
}

func (w *jsonWriter) int(n int64) {
	w.comma()
	w.b, w.sep = strconv.AppendInt(w.b, n, 10), true
}

func (w *jsonWriter) uint(n uint64) {
	w.comma()
	w.b, w.sep = strconv.AppendUint(w.b, n, 10), true
}

func (w *jsonWriter) bool(v bool) {
	w.comma()
	w.b, w.sep = strconv.AppendBool(w.b, v), true
}

func (w *jsonWriter) null() {
	w.comma()
	w.b, w.sep = append(w.b, "null"...), true
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Bytes from 0x80 pass through: strings in the core
// come from JS, so they are UTF-8 already.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}
