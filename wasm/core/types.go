// Package core holds every decision of the Background Fetch engine. It is pure Go:
// the browser is reached only through the interfaces in platform.go.
package core

// Result values of a background fetch (BackgroundFetchResult).
const (
	ResultNone    = ""
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// Failure reasons (BackgroundFetchFailureReason), also used as per-record results.
const (
	ReasonNone                  = ""
	ReasonAborted               = "aborted"
	ReasonBadStatus             = "bad-status"
	ReasonFetchError            = "fetch-error"
	ReasonQuotaExceeded         = "quota-exceeded"
	ReasonDownloadTotalExceeded = "download-total-exceeded"
)

// Request is a serialised Fetch request; its body, if any, stays an opaque platform value.
type Request struct {
	URL            string      `json:"url"`
	Method         string      `json:"method"`
	Headers        [][2]string `json:"headers"`
	Mode           string      `json:"mode"`
	Credentials    string      `json:"credentials"`
	Cache          string      `json:"cache"`
	Redirect       string      `json:"redirect"`
	Referrer       string      `json:"referrer"`
	ReferrerPolicy string      `json:"referrerPolicy"`
	Integrity      string      `json:"integrity"`
	BodySize       int64       `json:"bodySize"`
	HasBody        bool        `json:"hasBody"`
}

// Response is a response without its body: what responseReady exposes besides the bytes.
type Response struct {
	Status     int         `json:"status"`
	StatusText string      `json:"statusText"`
	Headers    [][2]string `json:"headers"`
	URL        string      `json:"url"`
	Redirected bool        `json:"redirected"`
	Type       string      `json:"type"`
}

// Header returns the first value of a header, matched case-insensitively.
func (r *Response) Header(name string) string {
	for _, h := range r.Headers {
		if equalFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// OK reports whether the status is an ok status (200–299).
func (r *Response) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// Snapshot is what a BackgroundFetchRegistration instance copies (SPEC §2).
type Snapshot struct {
	UniqueID         string `json:"uniqueId"`
	ID               string `json:"id"`
	UploadTotal      uint64 `json:"uploadTotal"`
	Uploaded         uint64 `json:"uploaded"`
	DownloadTotal    uint64 `json:"downloadTotal"`
	Downloaded       uint64 `json:"downloaded"`
	Result           string `json:"result"`
	FailureReason    string `json:"failureReason"`
	RecordsAvailable bool   `json:"recordsAvailable"`
}

// Options are the BackgroundFetchOptions of fetch().
type Options struct {
	DownloadTotal uint64 `json:"downloadTotal"`
	Title         string `json:"title"`
	Icons         []Icon `json:"icons"`
}

// Icon is an ImageResource.
type Icon struct {
	Src   string `json:"src"`
	Sizes string `json:"sizes,omitempty"`
	Type  string `json:"type,omitempty"`
	Label string `json:"label,omitempty"`
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
