package main

import (
	"encoding/json"

	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

func (c *cli) schemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the workflow format, for editors",
		Long: `Print a JSON Schema (draft 2020-12) of the workflow format, generated from the step types:
each step type's inputs with their types, values, defaults and docs, chosen by uses. Editors with
yaml-language-server complete and check workflows that begin with
  # yaml-language-server: $schema=../schema/flow.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := workflowSchema(steps.Default)
			if err != nil {
				return err
			}
			_, err = c.stdout.Write(b)
			return err
		},
	}
}

// exprPattern matches a value written as one expression (over lines too), which may stand for a
// value of any type.
const exprPattern = `^\$\{\{[\s\S]*\}\}$`

// workflowSchema returns the JSON Schema of a workflow whose steps use reg's step types.
func workflowSchema(reg *steps.Registry) ([]byte, error) {
	names := append(reg.Names(), engine.WorkflowStep)
	var byUses []any
	for _, name := range reg.Names() {
		t, _ := reg.Lookup(name)
		byUses = append(byUses, usesThen(name, withSchema(t.Inputs())))
	}
	byUses = append(byUses, usesThen(engine.WorkflowStep, map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"file"},
		"properties": map[string]any{
			"file":   map[string]any{"type": "string", "description": "The workflow file to run, relative to this one."},
			"inputs": orExpr(map[string]any{"type": "object", "description": "The called workflow's inputs."}),
		},
	}))
	stepProps := map[string]any{}
	for _, k := range engine.StepKeys() {
		stepProps[k] = stepKeySchema(k, names)
	}
	schema := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://github.com/flow-infra/flow/schema/flow.schema.json",
		"title":                "flow workflow",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"name", "steps"},
		"properties": map[string]any{
			"name":        map[string]any{"type": "string", "description": "The workflow's name."},
			"description": map[string]any{"type": "string", "description": "One line on what the workflow does."},
			"concurrency": map[string]any{"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
				"description": "A group whose runs on one machine go one at a time: a run waits for the group's lock before its first step."},
			"inputs": map[string]any{"type": "object", "description": "The inputs -v sets, by name.",
				"additionalProperties": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
					"type":        map[string]any{"enum": []string{"string", "int", "bool", "list", "map"}},
					"required":    map[string]any{"type": "boolean"},
					"default":     map[string]any{},
					"pattern":     map[string]any{"type": "string"},
					"enum":        map[string]any{"type": "array"},
					"secret":      map[string]any{"type": "boolean"},
					"description": map[string]any{"type": "string"},
				}}},
			"steps": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
				"type": "object", "required": []string{"id", "uses"}, "additionalProperties": false,
				"properties": stepProps, "allOf": byUses,
			}},
			"outputs": map[string]any{"type": "object", "description": "The workflow's outputs, by name."},
		},
	}
	b, err := json.MarshalIndent(schema, "", "  ")
	return append(b, '\n'), err
}

// usesThen is the rule that a step whose uses is name has the with that schema describes.
func usesThen(name string, with map[string]any) map[string]any {
	return map[string]any{
		"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": name}}, "required": []string{"uses"}},
		"then": map[string]any{"properties": map[string]any{"with": with}},
	}
}

// stepKeySchema describes one of the keys a step may have; a key this does not know yet is
// allowed with any value.
func stepKeySchema(key string, uses []string) map[string]any {
	switch key {
	case "id":
		return map[string]any{"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "The step's id: steps.ID.NAME reads its outputs."}
	case "uses":
		return map[string]any{"enum": uses, "description": "The step type (see flow steps)."}
	case "with":
		return map[string]any{"type": "object", "description": "The step type's inputs."}
	case "if":
		return map[string]any{"anyOf": []any{map[string]any{"type": "boolean"}, map[string]any{"type": "string"}}, "description": "Run the step only when this is true."}
	case "needs":
		return orExpr(map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Steps this one runs after."})
	case "for_each":
		return map[string]any{"type": []string{"array", "object", "string"}, "description": "Run the step once for each item (a list, a map, or an expression)."}
	case "retry":
		return map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
			"attempts": orExpr(map[string]any{"type": "integer"}), "delay": map[string]any{"type": "string"}, "backoff": orExpr(map[string]any{"type": "number"})}}
	case "timeout":
		return map[string]any{"type": "string", "description": "How long one try may take, e.g. 30s."}
	case "continue_on_error", "fail_fast":
		return orExpr(map[string]any{"type": "boolean"})
	case "parallel":
		return orExpr(map[string]any{"type": "integer"})
	case "once":
		return map[string]any{"enum": []string{engine.OnceInstance}, "description": "Run the step once per instance."}
	}
	return map[string]any{}
}

// withSchema describes a step type's with: its inputs, none other.
func withSchema(inputs []engine.Field) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range inputs {
		props[f.Name] = fieldSchema(f)
		if f.Required && f.Default == nil {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fieldSchema describes one input: its type (or an expression), values, default and doc.
func fieldSchema(f engine.Field) map[string]any {
	s := typeSchema(f.Type)
	if len(f.Enum) > 0 {
		s = orExpr(map[string]any{"enum": f.Enum})
	}
	if f.Doc != "" {
		s["description"] = f.Doc
	}
	if f.Default != nil {
		s["default"] = f.Default
	}
	return s
}

// typeSchema describes a value of t: as written, or as one expression that computes it.
func typeSchema(t *engine.Type) map[string]any {
	switch t.Kind {
	case engine.KindString:
		// An expression is a string too; a number or a boolean reads as its text (0600, a mode).
		return map[string]any{"type": []string{"string", "number", "boolean"}}
	case engine.KindInt:
		return orExpr(map[string]any{"type": "integer"})
	case engine.KindBool:
		return orExpr(map[string]any{"type": "boolean"})
	case engine.KindList:
		return orExpr(map[string]any{"type": "array", "items": typeSchema(t.Elem)})
	case engine.KindMap:
		return orExpr(map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem)})
	case engine.KindObject:
		return orExpr(withSchema(t.Fields))
	}
	return map[string]any{}
}

// orExpr allows s, or one expression in its place.
func orExpr(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "string", "pattern": exprPattern}}}
}
