package wire

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRegion(t *testing.T) {
	for _, tc := range []struct {
		name, auth, query, want string
	}{
		{"signed", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "", "eu-west-1"},
		{"no spaces", "AWS4-HMAC-SHA256 Credential=test/20260102/ap-northeast-3/ssm/aws4_request,SignedHeaders=host,Signature=abc", "", "ap-northeast-3"},
		{"gov", "AWS4-HMAC-SHA256 Credential=test/20260102/us-gov-west-1/ec2/aws4_request, SignedHeaders=host, Signature=abc", "", "us-gov-west-1"},
		{"presigned", "", "?X-Amz-Credential=test%2F20260102%2Feu-central-1%2Fec2%2Faws4_request", "eu-central-1"},
		{"unsigned", "", "", "us-west-2"},
		{"sigv2", "AWS test:signature", "", "us-west-2"},
		{"no region", "AWS4-HMAC-SHA256 Credential=test/20260102//ec2/aws4_request, SignedHeaders=host, Signature=abc", "", "us-west-2"},
		{"not a region", "AWS4-HMAC-SHA256 Credential=test/20260102/../ec2/aws4_request, SignedHeaders=host, Signature=abc", "", "us-west-2"},
		{"short scope", "AWS4-HMAC-SHA256 Credential=test/eu-west-1, SignedHeaders=host, Signature=abc", "", "us-west-2"},
	} {
		r := httptest.NewRequest("POST", "http://emulator/"+tc.query, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := Region(r, "us-west-2"); got != tc.want {
			t.Errorf("%s: Region = %q, want %q", tc.name, got, tc.want)
		}
		if key := AccessKeyID(r); (tc.auth != "" && strings.Contains(tc.auth, "Credential=") || tc.query != "") != (key != "") {
			t.Errorf("%s: AccessKeyID = %q", tc.name, key)
		}
	}
}

// BenchmarkRegion is what choosing a request's region costs every request: reading the
// credential scope of a signed request.
func BenchmarkRegion(b *testing.B) {
	r := httptest.NewRequest("POST", "http://emulator/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/eu-west-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	for b.Loop() {
		if Region(r, "us-east-1") != "eu-west-1" {
			b.Fatal("wrong region")
		}
	}
}
