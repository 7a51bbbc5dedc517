//go:build js && wasm

package bridge

import (
	"context"

	"github.com/hack-pad/safejs"
)

// StorageAvailable is core.Platform.StorageAvailable: quota minus usage from
// navigator.storage.estimate(), unknown where the browser does not say.
func StorageAvailable(ctx context.Context) (uint64, bool) {
	nav, err := safejs.Global().Get("navigator")
	if err != nil || isUndefined(nav, "storage") {
		return 0, false
	}
	storage, _ := nav.Get("storage")
	p, err := storage.Call("estimate")
	if err != nil {
		return 0, false
	}
	est, err := Await(ctx, p)
	if err != nil {
		return 0, false
	}
	quota, err1 := numberProp(est, "quota")
	usage, err2 := numberProp(est, "usage")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	if usage >= quota {
		return 0, true
	}
	return uint64(quota - usage), true
}

func numberProp(v safejs.Value, name string) (float64, error) {
	p, err := v.Get(name)
	if err != nil {
		return 0, err
	}
	return p.Float()
}

func isUndefined(v safejs.Value, prop string) bool {
	p, err := v.Get(prop)
	return err != nil || p.IsUndefined()
}
