package engine

import (
	"strings"
	"testing"
)

// TestSecretWarningShowsNoSource: a problem about a secret written in the file is printed
// without its source line, which would quote the secret.
func TestSecretWarningShowsNoSource(t *testing.T) {
	src := map[string][]byte{"f.yaml": []byte("name: x\nvalue: hunter2\n")}
	var out strings.Builder
	PrettyPrint(&out, &Error{Pos: Pos{File: "f.yaml", Line: 2, Col: 8}, Msg: "a literal secret", Secret: true}, src, false)
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "a literal secret") {
		t.Errorf("got %q", out.String())
	}
}

// TestCredentialName: names that say they hold credentials, and names that do not.
func TestCredentialName(t *testing.T) {
	for name, want := range map[string]bool{
		"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "DB_PASSWORD": true, "github_token": true,
		"API_KEY": true, "GOOGLE_APPLICATION_CREDENTIALS": true, "HOME": false, "AWS_REGION": false, "PATH": false,
	} {
		if got := CredentialName(name); got != want {
			t.Errorf("%s: %t, want %t", name, got, want)
		}
	}
}

// TestMaskerMapKeys: the keys of a secret map are secret, and two masked keys stay two entries.
func TestMaskerMapKeys(t *testing.T) {
	m := new(Masker)
	m.AddValue(map[string]any{"DB_PASSWORD_acme": "s3cret-1", "API_KEY_acme": "s3cret-2"})
	got := m.MaskValue(map[string]any{"DB_PASSWORD_acme": "x", "API_KEY_acme": "y", "plain": "z"}).(map[string]any)
	if len(got) != 3 || got["plain"] != "z" || got["***"] == nil || got["***2"] == nil {
		t.Errorf("got %v", got)
	}
	if s := m.Mask("no parameter DB_PASSWORD_acme"); strings.Contains(s, "DB_PASSWORD") {
		t.Errorf("got %q", s)
	}

	// A fleet's secrets by client: the setting names are secret, the client ids are structure.
	f := new(Masker)
	f.AddValue(map[string]any{"acme": map[string]any{"DB_PASSWORD": "s3cret-1"}, "beta": []any{"s3cret-2"}})
	if s := f.Mask("client acme: DB_PASSWORD=s3cret-1; beta: s3cret-2"); s != "client acme: ***=***; beta: ***" {
		t.Errorf("fleet: got %q", s)
	}
}
