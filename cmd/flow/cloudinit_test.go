package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-infra/flow/emulator"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// cloudConfigSchema is cloud-init's published schema of cloud-config, vendored with its notice.
const cloudConfigSchema = "../../testdata/cloud-init/schema-cloud-config-v1.json"

// TestProvisionUserDataIsCloudConfig runs workflows/provision.yaml on the emulator and checks the
// user data the launched instance got, as EC2 holds it, against cloud-init's schema: a change to
// the workflow that cloud-init would reject or ignore fails here, not on a new instance.
func TestProvisionUserDataIsCloudConfig(t *testing.T) {
	schema := compileCloudConfigSchema(t)

	dir := t.TempDir()
	workflow, err := filepath.Abs("../../workflows/provision.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"run", "--local", "--local-dir", dir, workflow, "-v", "client=acme"}, &stdout, &stderr); code != 0 {
		t.Fatalf("provision exited %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	e, err := emulator.New(emulator.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	view, ok, err := e.EC2().LatestRunning(context.Background())
	if err != nil || !ok {
		t.Fatalf("no instance after provision (%v)", err)
	}
	userData := string(view.UserData)
	if first, _, _ := strings.Cut(userData, "\n"); strings.TrimSpace(first) != "#cloud-config" {
		t.Fatalf("user data begins %q: cloud-init reads it as cloud-config only after a #cloud-config line", first)
	}
	if err := validateCloudConfig(schema, userData); err != nil {
		t.Errorf("provision's user data is not valid cloud-config: %v\n%s", err, userData)
	}

	// The check can fail: cloud-init's schema rejects a misspelt module and a file with no path.
	for _, bad := range []string{
		"#cloud-config\nwrite_file:\n  - path: /x\n",
		"#cloud-config\nwrite_files:\n  - content: x\n    permissions: '0755'\n",
		"#cloud-config\nwrite_files:\n  - path: /x\n    encoding: utf9\n",
	} {
		if validateCloudConfig(schema, bad) == nil {
			t.Errorf("cloud-init's schema accepted\n%s", bad)
		}
	}
}

func compileCloudConfigSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(cloudConfigSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", cloudConfigSchema, err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://raw.githubusercontent.com/canonical/cloud-init/main/cloudinit/config/schemas/schema-cloud-config-v1.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling cloud-init's schema: %v", err)
	}
	return schema
}

// validateCloudConfig checks cloud-config text (YAML) against schema.
func validateCloudConfig(schema *jsonschema.Schema, text string) error {
	var doc any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return err
	}
	// Through JSON, so the validator sees JSON's types (numbers, objects) rather than YAML's.
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return schema.Validate(inst)
}
