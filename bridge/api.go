//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/hack-pad/safejs"
	"github.com/valyala/fastjson"
)

// maxWait bounds one waitRecord call; readers call again to keep waiting.
const maxWait = 10 * time.Second

// API answers the shim's calls: host.call(op, argsJSON, bodies) → Promise<resultJSON>.
type API struct {
	Engine *core.Engine
	DB     string // database name, for readers of segments in JS
	Debug  bool   // enables operations that exist only for tests
}

// Matched is matchAll's answer: where the segments are and the records' views.
type Matched struct {
	DB      string
	Records []core.RecordView
}

// Call runs one operation; args is JSON, bodies the request bodies of a fetch (JS values).
func (a *API) Call(ctx context.Context, op string, args []byte, bodies safejs.Value) (any, error) {
	in, err := fastjson.ParseBytes(args)
	if err != nil {
		return nil, err
	}
	switch op {
	case "fetch":
		reqs := core.RequestsFromJSON(in.Get("requests"))
		return a.Engine.Fetch(ctx, string(in.GetStringBytes("id")), reqs, bodyMap(reqs, bodies),
			core.OptionsFromJSON(in.Get("options")))
	case "validate": // fetch()'s checks of its input alone: they come before the permission's (SPEC §3.1)
		if err := core.ValidateFetch(string(in.GetStringBytes("id")), core.RequestsFromJSON(in.Get("requests"))); err != nil {
			return nil, err
		}
		return true, nil
	case "get":
		s, ok, err := a.Engine.Get(string(in.GetStringBytes("id")))
		if !ok || err != nil {
			return nil, err
		}
		return s, nil
	case "getIds":
		return a.Engine.IDs(), nil
	case "holds":
		return a.Engine.Holds(string(in.GetStringBytes("uniqueId"))), nil
	case "abort":
		return a.Engine.Abort(ctx, string(in.GetStringBytes("uniqueId"))), nil
	case "matchAll":
		var query *core.Request
		if q := in.Get("request"); q != nil && q.Type() == fastjson.TypeObject {
			r := core.RequestFromJSON(q)
			query = &r
		}
		views, err := a.Engine.MatchAll(string(in.GetStringBytes("uniqueId")), query,
			core.QueryOptionsFromJSON(in.Get("options")))
		if err != nil {
			return nil, err
		}
		return Matched{DB: a.DB, Records: views}, nil
	case "waitRecord":
		ctx, cancel := withTimeout(ctx, maxWait)
		defer cancel()
		return a.Engine.WaitRecord(ctx, core.RecordViewFromJSON(in))
	case "ping":
		return Active(a.Engine.Active()), nil
	case "stop": // the engine's database was deleted or closed under it (js/60-worker.js): a new instance starts from what is stored
		a.Engine.StorageLost()
		go os.Exit(0)
		return nil, nil
	case "crash":
		if a.Debug { // proves in tests that the shim replaces an instance that panicked
			go func() { panic("bgfetch: crash requested by a test") }()
			return nil, nil
		}
	case "trap":
		if a.Debug { // a JS exception thrown through Go's frames (the test worker's getter throws): the shim must end the instance
			go func() { _, _ = safejs.Global().Get("__bgfetchTrap") }()
			return nil, nil
		}
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

// Active is ping's answer: how many fetches are downloading.
type Active int

// resultJSON writes what Call returned as the JSON the shim expects.
func resultJSON(out any) []byte {
	switch v := out.(type) {
	case core.Snapshot:
		return v.AppendJSON(nil)
	case core.RecordView:
		return v.AppendJSON(nil)
	case []string:
		b := []byte{'['}
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = core.AppendJSONString(b, s)
		}
		return append(b, ']')
	case bool:
		return strconv.AppendBool(nil, v)
	case Matched:
		b := append(core.AppendJSONString([]byte(`{"db":`), v.DB), `,"records":[`...)
		for i := range v.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.Records[i].AppendJSON(b)
		}
		return append(b, "]}"...)
	case Active:
		return append(strconv.AppendInt([]byte(`{"active":`), int64(v), 10), '}')
	}
	return []byte("null")
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
			return jsonObj.Call("parse", string(resultJSON(out)))
		})
	})
	if err != nil {
		return err
	}
	return host.Set("call", call.Value())
}
