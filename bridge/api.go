//go:build js && wasm

package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
)

// maxWait bounds one waitRecord call; readers call again to keep waiting.
const maxWait = 10 * time.Second

// API answers the shim's calls: host.call(op, argsJSON, bodies) → Promise<resultJSON>.
type API struct {
	Engine *core.Engine
	DB     string // database name, for readers of segments in JS
	Debug  bool   // enables operations that exist only for tests
}

type fetchArgs struct {
	ID       string         `json:"id"`
	Requests []core.Request `json:"requests"`
	Options  core.Options   `json:"options"`
}

type matchArgs struct {
	UniqueID string            `json:"uniqueId"`
	Request  *core.Request     `json:"request"`
	Options  core.QueryOptions `json:"options"`
}

// Call runs one operation; args is JSON, bodies the request bodies of a fetch (JS values).
func (a *API) Call(ctx context.Context, op string, args []byte, bodies safejs.Value) (any, error) {
	switch op {
	case "fetch":
		var in fetchArgs
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, err
		}
		return a.Engine.Fetch(ctx, in.ID, in.Requests, bodyMap(in.Requests, bodies), in.Options)
	case "get":
		var in struct{ ID string }
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, err
		}
		s, ok, err := a.Engine.Get(in.ID)
		if !ok || err != nil {
			return nil, err
		}
		return s, nil
	case "getIds":
		return a.Engine.IDs(), nil
	case "abort":
		var in struct{ UniqueID string }
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, err
		}
		return a.Engine.Abort(in.UniqueID), nil
	case "matchAll":
		var in matchArgs
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, err
		}
		views, err := a.Engine.MatchAll(in.UniqueID, in.Request, in.Options)
		if err != nil {
			return nil, err
		}
		return map[string]any{"db": a.DB, "records": views}, nil
	case "waitRecord":
		var in core.RecordView
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, maxWait)
		defer cancel()
		return a.Engine.WaitRecord(ctx, in)
	case "ping":
		return map[string]int{"active": a.Engine.Active()}, nil
	case "crash":
		if a.Debug { // proves in tests that the shim replaces an instance that panicked
			go func() { panic("bgfetch: crash requested by a test") }()
			return nil, nil
		}
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

func bodyMap(reqs []core.Request, bodies safejs.Value) map[int]any {
	m := map[int]any{}
	for i, r := range reqs {
		if r.HasBody {
			v, _ := bodies.Index(i)
			m[i] = v
		}
	}
	return m
}

// Install sets host.call so the shim can reach the engine.
func (a *API) Install(ctx context.Context, host safejs.Value) error {
	jsonObj := safejs.MustGetGlobal("JSON")
	call, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		op, _ := arg(args, 0).String()
		in, _ := arg(args, 1).String()
		bodies := arg(args, 2)
		return Promise(func() (any, error) {
			out, err := a.Call(ctx, op, []byte(in), bodies)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(out)
			if err != nil {
				return nil, err
			}
			return jsonObj.Call("parse", string(b))
		})
	})
	if err != nil {
		return err
	}
	return host.Set("call", call.Value())
}
