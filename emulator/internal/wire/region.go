package wire

import (
	"net/http"
	"regexp"
	"slices"
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
	parts := strings.Split(credentialScope(r), "/")
	if len(parts) == 5 && parts[4] == "aws4_request" && regionName.MatchString(parts[2]) {
		return parts[2]
	}
	return fallback
}

// AccessKeyID returns the access key id r is signed with, the first element of its SigV4
// credential scope; "" for an unsigned request.
func AccessKeyID(r *http.Request) string {
	key, _, _ := strings.Cut(credentialScope(r), "/")
	return key
}

// credentialScope returns r's SigV4 credential scope, from its Authorization header or its
// X-Amz-Credential query parameter; "" when it has none.
func credentialScope(r *http.Request) string {
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			scope, _, _ = strings.Cut(rest, ",")
		}
	} else if r.URL != nil {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	return strings.TrimSpace(scope)
}

// regions are the regions of AWS's standard partition (aws) that the emulator emulates. The
// China (aws-cn) and GovCloud (aws-us-gov) partitions are not emulated: their ARNs and endpoints
// differ.
var regions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-northeast-1": true, "ap-northeast-2": true,
	"ap-northeast-3": true, "ap-south-1": true, "ap-south-2": true, "ap-southeast-1": true, "ap-southeast-2": true,
	"ap-southeast-3": true, "ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-7": true,
	"ca-central-1": true, "ca-west-1": true, "eu-central-1": true, "eu-central-2": true, "eu-north-1": true,
	"eu-south-1": true, "eu-south-2": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true,
	"il-central-1": true, "me-central-1": true, "me-south-1": true, "mx-central-1": true, "sa-east-1": true,
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
}

// KnownRegion reports whether name is a region the emulator emulates: one of the commercial
// regions of AWS's standard partition.
func KnownRegion(name string) bool { return regions[name] }

// KnownRegions returns the names of the regions the emulator emulates, sorted.
func KnownRegions() []string {
	out := make([]string, 0, len(regions))
	for name := range regions {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
