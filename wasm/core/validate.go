package core

import (
	"net/url"
	"strconv"
	"strings"
)

// badPorts is the Fetch standard's bad port list.
var badPorts = map[int]bool{}

func init() {
	for _, p := range []int{0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
		101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
		512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719,
		1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080} {
		badPorts[p] = true
	}
}

// ValidateID rejects ids that no registration may have.
func ValidateID(id string) error {
	if id == "" {
		return typeError("The provided id is invalid.")
	}
	return nil
}

// ValidateRequests applies the checks fetch() makes before anything is stored (SPEC §3.1, §5.2).
func ValidateRequests(reqs []Request) error {
	if len(reqs) == 0 {
		return typeError("At least one request must be given.")
	}
	for i := range reqs {
		if err := validateRequest(&reqs[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateRequest(r *Request) error {
	if r.Mode == "no-cors" {
		return typeError("Refused to fetch '%s' because of the request's mode 'no-cors'.", r.URL)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return typeError("Refused to fetch '%s' because the URL is invalid.", r.URL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return typeError("Refused to fetch '%s' because only http: and https: are allowed.", r.URL)
	}
	if u.User != nil {
		return typeError("Refused to fetch '%s' because the URL contains credentials.", r.URL)
	}
	port := u.Port()
	if port == "" {
		return nil
	}
	if p, err := strconv.Atoi(port); err != nil || badPorts[p] {
		return typeError("Refused to fetch '%s' because port %s is not allowed.", r.URL, port)
	}
	return nil
}

// stripFragment returns a URL without its fragment.
func stripFragment(u string) string {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		return u[:i]
	}
	return u
}
