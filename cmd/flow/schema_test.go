package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-infra/flow/steps"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaPath = "../../schema/flow.schema.json"

// TestSchemaCommitted keeps schema/flow.schema.json what `flow schema` prints; go test ./cmd/flow
// -update rewrites it.
func TestSchemaCommitted(t *testing.T) {
	want, err := workflowSchema(steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(schemaPath)
	if err == nil && bytes.Equal(got, want) {
		return
	}
	if !*update {
		t.Fatalf("schema/flow.schema.json is out of date with the step types (%v): run go test ./cmd/flow -update", err)
	}
	if err := os.MkdirAll(filepath.Dir(schemaPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schemaPath, want, 0o644); err != nil {
		t.Fatal(err)
	}
}

// compileSchema compiles the generated schema with a third-party validator.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := workflowSchema(steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("flow.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("flow.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlValue reads a workflow as the JSON values a schema validates.
func yamlValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	return jsonCompatible(v)
}

func jsonCompatible(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonCompatible(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonCompatible(e)
		}
	case int:
		return float64(x)
	}
	return v
}

// TestSchemaValidatesWorkflows: every shipped workflow validates, and carries the modeline that
// points editors at the schema.
func TestSchemaValidatesWorkflows(t *testing.T) {
	s := compileSchema(t)
	files, err := filepath.Glob("../../workflows/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(src), "\n"); first != "# yaml-language-server: $schema=../schema/flow.schema.json" {
			t.Errorf("%s: the first line is not the schema modeline: %q", f, first)
		}
		if err := s.Validate(yamlValue(t, src)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSchemaRejects: what a workflow must not say, the schema refuses too.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	for name, src := range map[string]string{
		"misspelt input": "name: x\nsteps:\n  - id: a\n    uses: ssm.get\n    with: {nams: [a]}\n",
		"wrong uses":     "name: x\nsteps:\n  - id: a\n    uses: ssm.gett\n",
		"wrong type":     "name: x\nsteps:\n  - id: a\n    uses: route53.upsert\n    with: {zone: local., name: a, values: [10.0.0.1], ttl: soon}\n",
		"not an enum":    "name: x\nsteps:\n  - id: a\n    uses: ssm.put\n    with: {name: a, value: b, type: Secure}\n",
		"unknown key":    "name: x\nsteps:\n  - id: a\n    uses: exec\n    with: {argv: [true]}\n    retries: 3\n",
	} {
		if err := s.Validate(yamlValue(t, []byte(src))); err == nil {
			t.Errorf("%s: the schema accepts\n%s", name, src)
		}
	}
	// An expression stands for a value of any type.
	ok := "name: x\nsteps:\n  - id: a\n    uses: route53.upsert\n    with: {zone: local., name: a, values: [10.0.0.1], ttl: '${{ 60 }}'}\n"
	if err := s.Validate(yamlValue(t, []byte(ok))); err != nil {
		t.Errorf("an expression for an int: %v", err)
	}
}
