package ssm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/ssm"
)

func TestStateSurvivesReopening(t *testing.T) {
	dir := t.TempDir()
	_, c := start(t, ssm.Options{Dir: dir})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/DB_PASSWORD"), Value: aws.String("pw-1"), Type: types.ParameterTypeSecureString})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/DB_PASSWORD"), Value: aws.String("pw-2"), Overwrite: aws.Bool(true)})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("acme.HOGE"), Value: aws.String("hoge"), Type: types.ParameterTypeString})

	// A second Service on the same directory, as another process would open it, sees the
	// parameters and decrypts with the same key.
	_, c2 := start(t, ssm.Options{Dir: dir})
	if p := get(t, c2, "/clients/acme/DB_PASSWORD", true); *p.Value != "pw-2" || p.Version != 2 {
		t.Errorf("reopened SecureString = %+v", p)
	}
	if p := get(t, c2, "/clients/acme/DB_PASSWORD:1", true); *p.Value != "pw-1" {
		t.Errorf("reopened version 1 = %+v", p)
	}
	if p := get(t, c2, "acme.HOGE", false); *p.Value != "hoge" || !p.LastModifiedDate.Equal(now) {
		t.Errorf("reopened String = %+v", p)
	}
	// And what it writes, the first one reads.
	put(t, c2, &awsssm.PutParameterInput{Name: aws.String("acme.HOGE"), Value: aws.String("hoge-2"), Overwrite: aws.Bool(true)})
	if p := get(t, c, "acme.HOGE", false); *p.Value != "hoge-2" {
		t.Errorf("first process after the second wrote: %+v", p)
	}
	if _, err := c2.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("acme.HOGE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("acme.HOGE")}); err == nil {
		t.Error("first process still sees a parameter the second deleted")
	}
}

func TestNoPlaintextSecretUnderTheStateDir(t *testing.T) {
	dir := t.TempDir()
	_, c := start(t, ssm.Options{Dir: dir})
	secrets := []string{"correct-horse-battery-staple", "p@ssw0rd-of-acme-2024", "another secret, with spaces"}
	for i, s := range secrets {
		name := "/clients/acme/SECRET_" + string(rune('A'+i))
		put(t, c, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String(s), Type: types.ParameterTypeSecureString})
		put(t, c, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String(s + "-v2"), Overwrite: aws.Bool(true)})
	}
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/PLAIN"), Value: aws.String("visible-plain-value"), Type: types.ParameterTypeString})

	var forms [][]byte
	for _, s := range append(secrets, secrets[0]+"-v2") {
		forms = append(forms, []byte(s), []byte(base64.StdEncoding.EncodeToString([]byte(s))),
			[]byte(base64.RawStdEncoding.EncodeToString([]byte(s))), []byte(base64.URLEncoding.EncodeToString([]byte(s))),
			[]byte(hex.EncodeToString([]byte(s))))
	}
	files := 0
	sawPlain := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forms {
			if bytes.Contains(data, f) {
				t.Errorf("%s contains %q", path, f)
			}
		}
		sawPlain = sawPlain || bytes.Contains(data, []byte("visible-plain-value"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 || !sawPlain {
		t.Fatalf("read %d files, plain value seen: %v; the walk did not see the state", files, sawPlain)
	}
	info, err := os.Stat(filepath.Join(dir, "ssm.key"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 || info.Size() != 32 {
		t.Errorf("ssm.key: mode %v, %d bytes", info.Mode().Perm(), info.Size())
	}
}

// Processes that open a new state directory at once agree on one key.
func TestKeyCreatedOnceWhenOpenedConcurrently(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		const n = 8
		svcs := make([]*ssm.Service, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				svc, err := ssm.New(ssm.Options{Dir: dir})
				if err != nil {
					t.Error(err)
				}
				svcs[i] = svc
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		_, c := start(t, ssm.Options{Dir: dir})
		put(t, c, &awsssm.PutParameterInput{Name: aws.String("/k"), Value: aws.String("shared"), Type: types.ParameterTypeSecureString})
		for i, svc := range svcs {
			if v, ok, err := svc.ParameterValue(ctx, "us-east-1", "/k"); ok || err != nil || v != "" {
				t.Fatalf("round %d: service %d: %q %v %v", round, i, v, ok, err)
			}
			_, ci := serve(t, svc)
			if p := get(t, ci, "/k", true); *p.Value != "shared" {
				t.Fatalf("round %d: service %d decrypts %q", round, i, *p.Value)
			}
			svc.Close()
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != "ssm.json" && e.Name() != "ssm.lock" && e.Name() != "ssm.key" {
				t.Errorf("left behind: %s", e.Name())
			}
		}
	}
}
