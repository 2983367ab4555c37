package main

import (
	"bytes"
	"testing"
)

// TestGitHubEscaping: the Actions runner splits a workflow command at "::", its properties at ","
// and each at the first ":"... so those, and %, CR and LF, are percent-encoded as it decodes them.
func TestGitHubEscaping(t *testing.T) {
	var out bytes.Buffer
	writeGitHub(&out, []diagnostic{{File: "a:b,c%.yaml", Line: 3, Column: 0, Severity: severityError, Rule: "yaml-syntax",
		Message: "first line\r\nsecond: 50% done, ok"}})
	want := "::error file=a%3Ab%2Cc%25.yaml,line=3,title=flow yaml-syntax::first line%0D%0Asecond: 50%25 done, ok\n"
	if got := out.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
