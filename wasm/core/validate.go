package core

import (
	"slices"
	"strconv"
	"strings"
)

// badPorts is the Fetch standard's bad port list, sorted. An array, not a map filled by an init
// function: package initialisation is on the engine's start-up path.
var badPorts = [...]uint16{0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
	101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
	512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719,
	1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}

func badPort(p int) bool {
	if p < 0 || p > 0xffff {
		return false
	}
	_, found := slices.BinarySearch(badPorts[:], uint16(p))
	return found
}

// ValidateID rejects ids that no registration may have.
func ValidateID(id string) error {
	if id == "" {
		return typeError("The provided id is invalid.")
	}
	return nil
}

// ValidateFetch is every check of fetch()'s input (the id and the requests): it comes before the
// permission's (SPEC §3.1), so the bridge asks for it alone when the permission is denied.
func ValidateFetch(id string, reqs []Request) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	return ValidateRequests(reqs)
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
	scheme, credentials, port, ok := urlParts(r.URL)
	if !ok {
		return typeError("Refused to fetch '%s' because the URL is invalid.", r.URL)
	}
	if scheme != "http" && scheme != "https" {
		return typeError("Refused to fetch '%s' because only http: and https: are allowed.", r.URL)
	}
	if credentials {
		return typeError("Refused to fetch '%s' because the URL contains credentials.", r.URL)
	}
	if port == "" {
		return nil
	}
	if p, err := strconv.Atoi(port); err != nil || badPort(p) {
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

// urlParts splits an absolute URL as the shim passes it (already serialised by the browser's URL parser):
// the lower-cased scheme, whether it carries credentials, and its port. net/url would add ~40 KB brotli.
func urlParts(raw string) (scheme string, credentials bool, port string, ok bool) {
	colon := strings.IndexByte(raw, ':')
	if colon <= 0 || !validScheme(raw[:colon]) {
		return "", false, "", false
	}
	scheme, rest := lowerASCII(raw[:colon]), raw[colon+1:]
	if !strings.HasPrefix(rest, "//") {
		return scheme, false, "", true
	}
	host := rest[2:]
	if end := strings.IndexAny(host, "/?#"); end >= 0 {
		host = host[:end]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		credentials, host = true, host[at+1:]
	}
	if host == "" {
		return "", false, "", false
	}
	if end := strings.LastIndexByte(host, ']'); strings.HasPrefix(host, "[") {
		if end < 0 {
			return "", false, "", false
		}
		host = host[end+1:] // an IPv6 literal: only ":port" may follow
	}
	if c := strings.LastIndexByte(host, ':'); c >= 0 {
		port = host[c+1:]
	}
	return scheme, credentials, port, true
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower-cases letters; digits and "+-." keep their meaning below
		switch {
		case 'a' <= c && c <= 'z':
		case i > 0 && ('0' <= s[i] && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.'):
		default:
			return false
		}
	}
	return true
}

// lowerASCII lower-cases a scheme, which validScheme keeps to ASCII (strings.ToLower links
// Unicode's case tables).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
