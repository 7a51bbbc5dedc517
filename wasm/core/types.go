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
	URL            string
	Method         string
	Headers        [][2]string
	Mode           string
	Credentials    string
	Cache          string
	Redirect       string
	Referrer       string
	ReferrerPolicy string
	Integrity      string
	BodySize       int64
	HasBody        bool
}

// Response is a response without its body: what responseReady exposes besides the bytes.
type Response struct {
	Status     int
	StatusText string
	Headers    [][2]string
	URL        string
	Redirected bool
	Type       string
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

// hasHeader reports whether the request carries a header named name.
func (r *Request) hasHeader(name string) bool {
	for _, h := range r.Headers {
		if equalFold(h[0], name) {
			return true
		}
	}
	return false
}

// nullBodyStatus reports whether a response with this status has no body (Fetch's null body status).
func nullBodyStatus(status int) bool {
	return status == 101 || status == 103 || status == 204 || status == 205 || status == 304
}

// OK reports whether the status is an ok status (200–299).
func (r *Response) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// Snapshot is what a BackgroundFetchRegistration instance copies (SPEC §2).
type Snapshot struct {
	UniqueID         string
	ID               string
	UploadTotal      uint64
	Uploaded         uint64
	DownloadTotal    uint64
	Downloaded       uint64
	Result           string
	FailureReason    string
	RecordsAvailable bool
	// Epoch (the engine's start, in ms) and Seq order the snapshots an engine takes: answers and
	// updates reach a realm by different ways, so an older one can arrive after a newer one.
	Epoch int64
	Seq   uint64
}

// Options are the BackgroundFetchOptions of fetch().
type Options struct {
	DownloadTotal uint64
	Title         string
	Icons         []Icon
}

// Icon is an ImageResource.
type Icon struct {
	Src   string
	Sizes string
	Type  string
	Label string
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
