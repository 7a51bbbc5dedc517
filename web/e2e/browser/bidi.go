package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// bidiConn is a minimal WebDriver BiDi client: commands carry an id, and a
// reader goroutine routes each response to its caller; events are ignored.
type bidiConn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan bidiMessage

	done    chan struct{} // closed when the reader stops
	readErr error         // why the reader stopped; valid after done
}

type bidiMessage struct {
	Type       string          `json:"type"` // "success", "error" or "event"
	ID         *int64          `json:"id"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Stacktrace string          `json:"stacktrace"`
}

// BiDiError is an error response to a WebDriver BiDi command.
type BiDiError struct {
	Method     string
	Code       string // e.g. "invalid argument", "no such frame"
	Message    string
	Stacktrace string
}

func (e *BiDiError) Error() string {
	return fmt.Sprintf("bidi %s: %s: %s", e.Method, e.Code, e.Message)
}

// dialBiDi connects to a BiDi endpoint such as ws://127.0.0.1:1234/session.
func dialBiDi(ctx context.Context, url string) (*bidiConn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(-1) // the default 32 KiB is too small for large eval results
	b := &bidiConn{ws: ws, pending: map[int64]chan bidiMessage{}, done: make(chan struct{})}
	go b.read()
	return b, nil
}

func (b *bidiConn) read() {
	defer close(b.done)
	for {
		_, data, err := b.ws.Read(context.Background())
		if err != nil {
			b.readErr = err
			return
		}
		var m bidiMessage
		if json.Unmarshal(data, &m) != nil || m.ID == nil || m.Type == "event" {
			continue
		}
		b.mu.Lock()
		ch := b.pending[*m.ID]
		delete(b.pending, *m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m // buffered, never blocks
		}
	}
}

// call sends method with params and decodes the result into result (may be nil).
func (b *bidiConn) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan bidiMessage, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()

	data, err := json.Marshal(struct {
		ID     int64  `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{id, method, params})
	if err != nil {
		return fmt.Errorf("bidi %s: %w", method, err)
	}
	if err := b.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("bidi %s: write: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return &BiDiError{Method: method, Code: m.Error, Message: m.Message, Stacktrace: m.Stacktrace}
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("bidi %s: decode result: %w", method, err)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("bidi %s: connection closed: %w", method, b.readErr)
	case <-ctx.Done():
		return fmt.Errorf("bidi %s: %w", method, context.Cause(ctx))
	}
}

// close drops the connection (no close handshake: the browser is quitting
// anyway) and waits for the reader.
func (b *bidiConn) close() {
	_ = b.ws.CloseNow()
	<-b.done
}
