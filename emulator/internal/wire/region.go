package wire

import (
	"net/http"
	"regexp"
	"strings"
)

// regionName is the form of a region's name: lower-case words and digits joined by dashes,
// e.g. us-east-1, eu-west-1, ap-northeast-3, us-gov-west-1.
var regionName = regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]+$`)

// Region returns the region r is signed for: the third element of its SigV4 credential scope
// (AKID/DATE/REGION/SERVICE/aws4_request), read from the Authorization header or, for a presigned
// request, from the X-Amz-Credential query parameter. An unsigned request, or one whose scope
// names no region of that form, is fallback's.
func Region(r *http.Request, fallback string) string {
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			scope, _, _ = strings.Cut(rest, ",")
		}
	} else if r.URL != nil {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(strings.TrimSpace(scope), "/")
	if len(parts) == 5 && parts[4] == "aws4_request" && regionName.MatchString(parts[2]) {
		return parts[2]
	}
	return fallback
}
