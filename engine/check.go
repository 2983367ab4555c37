package engine

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	exprchecker "github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	exprtypes "github.com/expr-lang/expr/types"
)

// checker compiles the expressions of one workflow file and checks their names, references and
// types against the scope each is written in. It keeps what is built once per file (expr-lang's
// configuration, the expr types of flow's types and of steps' outputs) and reports into errs.
type checker struct {
	errs          *Errors
	conf          *conf.Config              // expr-lang's configuration, shared by every expression; see config
	exprTypes     map[*Type]exprtypes.Type  // Type -> expr type, built once
	stepExprTypes map[string]exprtypes.Type // step id -> its outputs as an expr type, built once
}

// newChecker returns a checker that reports into errs.
func newChecker(errs *Errors) *checker {
	return &checker{errs: errs, exprTypes: map[*Type]exprtypes.Type{}, stepExprTypes: map[string]exprtypes.Type{}}
}

// config returns expr-lang's configuration with flow's functions, built on first use: a file
// without expressions never pays for it.
func (c *checker) config() *conf.Config {
	if c.conf == nil {
		c.conf = conf.CreateNew()
		for _, op := range functions {
			op(c.conf)
		}
		c.conf.Check()
	}
	return c.conf
}

// scope is what an expression may name: the inputs, the steps declared before it, env, and item
// inside a for_each step.
type scope struct {
	inputs    *Type            // an object of the inputs in scope
	allInputs *Type            // every input declared so far, when inputs is only some of them
	steps     map[string]*Step // steps whose outputs are visible, by id; nil: none may be used
	declared  map[string]int   // every step id in the file -> its line
	self      string           // the id of the step the expression belongs to
	item      *Type            // nil outside for_each
	what      string           // "step \"x\"", "outputs", ... for messages
	reads     map[string]bool  // when set, collects the ids of the steps expressions read
}

// roots are the names an expression may start with.
var roots = []string{"inputs", "steps", "env", "item"}

// functions are flow's additions to expr-lang's builtins.
var functions = []expr.Option{
	expr.Function("format", func(p ...any) (any, error) {
		f, ok := p[0].(string)
		if !ok {
			return nil, fmt.Errorf("format's first argument is the format, a string; got %s", describeValue(p[0]))
		}
		return fmt.Sprintf(f, p[1:]...), nil
	}, new(func(string, ...any) string)),
	expr.Function("default", func(p ...any) (any, error) {
		if isEmpty(p[0]) {
			return p[1], nil
		}
		return p[0], nil
	},
		new(func(string, string) string),
		new(func(int, int) int),
		new(func(bool, bool) bool),
		new(func(any, any) any),
	),
	expr.Function("merge", merge, new(func(...any) map[string]any)),
}

// merge is one map holding the keys of every map given. A key in more than one is an error, not
// a silent overwrite: a merge that builds a call's inputs must not let one source shadow another
// (a client's entry naming its own client id, or a secret where it would not be secret).
func merge(maps ...any) (any, error) {
	out := map[string]any{}
	from := map[string]int{}
	for i, m := range maps {
		if m == nil {
			continue
		}
		rv := reflect.ValueOf(m)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("merge takes maps; its argument %d is a %s", i+1, describeValue(m))
		}
		for it := rv.MapRange(); it.Next(); {
			k := it.Key().String()
			if j, seen := from[k]; seen {
				return nil, fmt.Errorf("merge: key %q is in its argument %d and its argument %d; merge overwrites nothing: leave the key out of one", k, j+1, i+1)
			}
			from[k] = i
			out[k] = it.Value().Interface()
		}
	}
	return out, nil
}

// isEmpty is default's notion of a missing value: nil, "", or an empty list or map.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return rv.Len() == 0
	}
	return false
}

// compile checks e's names against sc, compiles it with expr-lang against the types in scope, and
// checks that its result fits want. It reports every problem and returns nil if there was one.
func (c *checker) compile(e *Expr, sc *scope, want *Type) *Expr {
	if !c.withinLimits(e) {
		return nil
	}
	tree, err := parser.ParseWithConfig(e.Source, c.config())
	if err != nil {
		c.exprError(e, err, "syntax error in ${{ }}: ")
		return nil
	}
	refs, ok := c.checkNames(e, &tree.Node, sc)
	if !ok {
		return nil
	}
	env := exprtypes.Map{
		"inputs": c.exprType(sc.inputs),
		"env":    envExprType,
	}
	stepsEnv := exprtypes.Map{}
	for id := range refs.steps {
		stepsEnv[id] = c.stepExprType(sc.steps[id])
	}
	env["steps"] = stepsEnv
	if sc.item != nil {
		env["item"] = c.exprType(sc.item)
	}
	// expr.Compile, with one configuration for the whole file instead of one per expression,
	// and the tree already parsed.
	c.conf.WithEnv(env)
	if _, err := exprchecker.Check(tree, c.conf); err != nil {
		c.exprError(e, err, "")
		return nil
	}
	if err := optimizer.Optimize(&tree.Node, c.conf); err != nil {
		c.exprError(e, err, "")
		return nil
	}
	prog, err := compiler.Compile(tree, c.conf)
	if err != nil {
		c.exprError(e, err, "")
		return nil
	}
	for id := range refs.steps {
		if sc.reads != nil {
			sc.reads[id] = true
		}
	}
	e.prog = prog
	e.result = prog.Node().Type()
	e.reads = refs.paths
	e.static = refs.static
	for _, path := range refs.paths {
		if len(path) > 1 && path[0] == "env" && CredentialName(path[1]) {
			e.secretEnv = append(e.secretEnv, path[1])
		}
	}
	if want != nil && !want.accepts(e.result) {
		c.errs.add(RuleExprType, e.Pos(), "${{ %s }} is %s, but %s needs %s", e.Source, describeReflect(e.result), target(sc), want)
		return nil
	}
	return e
}

// The most an expression may hold. expr-lang's parser and checker recurse once a bracket (and once
// an operator), and a bracket adds no node to count against its own limit: without these bounds
// a line of a million '(' would overflow the stack, and a long one take seconds to fail. The
// longest expression in the shipped workflows is under 200 characters and nests 3 deep.
const (
	maxExprLength = 4096 // characters between ${{ and }}
	maxExprDepth  = 64   // brackets ( [ { open at once
)

// withinLimits reports e if it is longer than maxExprLength or nests brackets deeper than
// maxExprDepth, at the bracket that goes past it; brackets inside string literals do not count.
func (c *checker) withinLimits(e *Expr) bool {
	if n := utf8.RuneCountInString(e.Source); n > maxExprLength {
		c.errs.add(RuleExprSyntax, e.Pos(), "the expression is %d characters long; an expression is at most %d: compute parts in earlier steps or inputs", n, maxExprLength)
		return false
	}
	depth, quote, escaped := 0, rune(0), false // quote: the string literal the rune is in, if any
	for i, r := range []rune(e.Source) {
		switch {
		case escaped:
			escaped = false
		case quote != 0 && r == '\\' && quote != '`':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			if depth++; depth > maxExprDepth {
				c.errs.add(RuleExprSyntax, e.pos(i), "the expression nests brackets more than %d deep: write it in smaller parts", maxExprDepth)
				return false
			}
		case r == ')' || r == ']' || r == '}':
			depth--
		}
	}
	return true
}

// target names what an expression sets, for type errors.
func target(sc *scope) string {
	if sc.what == "" {
		return "this value"
	}
	return "this value in " + sc.what
}

var envExprType = exprtypes.Map{exprtypes.Extra: exprtypes.String}

// exprType returns t as an expr type, built once per type.
func (c *checker) exprType(t *Type) exprtypes.Type {
	if et, ok := c.exprTypes[t]; ok {
		return et
	}
	et := t.exprType()
	c.exprTypes[t] = et
	return et
}

func (c *checker) stepExprType(st *Step) exprtypes.Type {
	if t, ok := c.stepExprTypes[st.ID]; ok {
		return t
	}
	t := st.outputType().exprType()
	c.stepExprTypes[st.ID] = t
	return t
}

// exprError reports an expr-lang error at the position of the token it is about.
func (c *checker) exprError(e *Expr, err error, prefix string) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		c.errs.add(RuleExprSyntax, e.Pos(), "%s%v", prefix, err)
		return
	}
	msg := fe.Message
	if msg == "unexpected token EOF" {
		msg = "the expression ends too early"
	}
	if name, found := strings.CutPrefix(msg, "unknown name "); found {
		msg = fmt.Sprintf("unknown name %q: an expression starts from %s%s", name, strings.Join(roots, ", "), suggest(name, roots))
	}
	c.errs.add(RuleExprSyntax, e.pos(fe.From), "%s%s", prefix, msg)
}

// references is what an expression reads, as found by checkNames.
type references struct {
	steps  map[string]bool
	item   bool
	paths  [][]string
	static *Type // the type of the whole expression when it is one member path
}

// checkNames walks the expression's member paths (inputs.x, steps.a.b, item.key) and reports,
// with the position of the offending name, inputs and steps that do not exist, steps declared
// later, outputs a step does not have. expr-lang would find most of these too, but it could only
// say "unknown field"; this says what is there instead.
func (c *checker) checkNames(e *Expr, root *ast.Node, sc *scope) (references, bool) {
	refs := references{steps: map[string]bool{}}
	before := len(*c.errs)
	var members []*ast.MemberNode
	inner := map[ast.Node]bool{}
	ast.Walk(root, visitor(func(n *ast.Node) {
		if m, ok := (*n).(*ast.MemberNode); ok {
			members = append(members, m)
			if _, nested := m.Node.(*ast.MemberNode); nested {
				inner[m.Node] = true
			}
		}
		if id, ok := (*n).(*ast.IdentifierNode); ok {
			if id.Value == "item" && sc.item == nil {
				c.errs.add(RuleExprName, e.pos(id.Location().From), "item is only defined in a step with for_each")
			}
			if id.Value == "item" {
				refs.item = true
			}
			if id.Value == "$env" {
				c.errs.add(RuleExprName, e.pos(id.Location().From), "$env reads every name at once, the environment's credentials included: read env.NAME, inputs.NAME or steps.ID.NAME")
			}
			if id.Value == "steps" && sc.steps == nil {
				c.errs.add(RuleExprName, e.pos(id.Location().From), "%s cannot use steps: it is known before any step runs", sc.what)
			}
		}
	}))
	// A root named alone, not as the base of a member path (toJSON(inputs), string(steps)),
	// reads everything under it.
	// The environment is read by name only: as a whole it holds credentials.
	bases := map[ast.Node]bool{}
	for _, m := range members {
		bases[memberBase(m)] = true
	}
	ast.Walk(root, visitor(func(n *ast.Node) {
		if id, ok := (*n).(*ast.IdentifierNode); ok && !bases[*n] && contains(roots, id.Value) {
			if id.Value == "env" {
				c.errs.add(RuleExprName, e.pos(id.Location().From), "%s", envByName)
			}
			refs.paths = append(refs.paths, []string{id.Value})
		}
	}))
	for _, m := range members {
		if inner[m] {
			continue
		}
		rootName, path, nodes := memberPath(m)
		if rootName == "" {
			continue
		}
		if rootName == "env" && len(path) == 0 {
			c.errs.add(RuleExprName, e.pos(memberBase(m).Location().From), "%s", envByName)
			continue
		}
		refs.paths = append(refs.paths, append([]string{rootName}, path...))
		t := c.checkPath(e, sc, rootName, path, nodes, &refs)
		if m == *root && len(path) == staticLen(m) {
			refs.static = t
		}
	}
	if id, isIdent := (*root).(*ast.IdentifierNode); isIdent && id.Value == "item" && sc.item != nil {
		refs.static = sc.item
	}
	return refs, len(*c.errs) == before
}

// envByName is the problem with reading env other than as env.NAME.
const envByName = "env is read by name only, as env.NAME: the whole environment holds credentials"

// memberBase returns the node a member chain starts from: x in x.a.b.
func memberBase(m *ast.MemberNode) ast.Node {
	var cur ast.Node = m
	for {
		mm, ok := cur.(*ast.MemberNode)
		if !ok {
			return cur
		}
		cur = mm.Node
	}
}

func staticLen(m *ast.MemberNode) int {
	_, path, _ := memberPath(m)
	return len(path)
}

// memberPath returns the identifier a member chain starts from and the static property names that
// follow it, up to the first computed one (x[i]) or method call.
func memberPath(m *ast.MemberNode) (root string, path []string, nodes []ast.Node) {
	var rev []*ast.MemberNode
	var cur ast.Node = m
	for {
		mm, ok := cur.(*ast.MemberNode)
		if !ok {
			break
		}
		rev = append(rev, mm)
		cur = mm.Node
	}
	id, ok := cur.(*ast.IdentifierNode)
	if !ok {
		return "", nil, nil
	}
	for i := len(rev) - 1; i >= 0; i-- {
		s, isStr := rev[i].Property.(*ast.StringNode)
		if !isStr || rev[i].Method {
			break
		}
		path = append(path, s.Value)
		nodes = append(nodes, rev[i].Property)
	}
	return id.Value, path, nodes
}

// checkPath follows path from root through the types in scope and returns the type it reaches.
func (c *checker) checkPath(e *Expr, sc *scope, root string, path []string, nodes []ast.Node, refs *references) *Type {
	at := func(i int) Pos { return e.pos(nodes[i].Location().From) }
	var t *Type
	switch root {
	case "inputs":
		t = sc.inputs
		if len(path) > 0 && sc.inputs.Field(path[0]) == nil {
			if sc.allInputs != nil && sc.allInputs.Field(path[0]) != nil {
				c.errs.add(RuleExprName, at(0), "input %q is declared after this one: a default can only use inputs declared before it", path[0])
				return nil
			}
			c.errs.add(RuleExprName, at(0), "unknown input %q%s", path[0], suggestOr(path[0], sc.inputs.FieldNames(), "the workflow declares no inputs"))
			return nil
		}
	case "env":
		if len(path) > 1 {
			c.errs.add(RuleExprName, at(1), "env.%s is a string and has no field %q", path[0], path[1])
			return nil
		}
		if len(path) == 1 {
			return String()
		}
		return MapOf(String())
	case "item":
		t = sc.item
		if t == nil {
			return nil // reported with the identifier
		}
	case "steps":
		if sc.steps == nil {
			return nil // reported with the identifier
		}
		if len(path) == 0 {
			return Any()
		}
		id := path[0]
		st := sc.steps[id]
		if st == nil {
			switch line, declared := sc.declared[id]; {
			case id == sc.self && sc.self != "":
				c.errs.add(RuleExprName, at(0), "step %q cannot use its own outputs", id)
			case declared:
				c.errs.add(RuleExprName, at(0), "step %q is declared later (line %d): a step can only use the outputs of steps before it", id, line)
			default:
				names := make([]string, 0, len(sc.steps))
				for n := range sc.steps {
					names = append(names, n)
				}
				sort.Strings(names)
				c.errs.add(RuleExprName, at(0), "unknown step %q%s", id, suggestOr(id, names, "no step is declared before this one"))
			}
			return nil
		}
		refs.steps[id] = true
		t = st.outputType()
		if len(path) > 1 && t.Kind == KindList {
			c.errs.add(RuleExprName, at(1), "steps.%s is a list (the step runs for_each item): index it, e.g. steps.%s[0].%s", id, id, path[1])
			return nil
		}
		if len(path) > 1 && t.Field(path[1]) == nil {
			c.errs.add(RuleExprName, at(1), "step %q (%s) has no output %q%s", id, st.Uses, path[1], suggestOr(path[1], t.FieldNames(), "it has no outputs"))
			return nil
		}
		path, nodes = path[1:], nodes[1:]
		at = func(i int) Pos { return e.pos(nodes[i].Location().From) }
	default:
		return nil // a variable of the expression (let, a predicate's #): expr checks it
	}
	for i, p := range path {
		switch t.Kind {
		case KindObject:
			f := t.Field(p)
			if f == nil {
				c.errs.add(RuleExprName, at(i), "no field %q here%s", p, suggestOr(p, t.FieldNames(), ""))
				return nil
			}
			t = f.Type
		case KindMap:
			t = t.Elem
		case KindAny:
			return Any()
		default:
			c.errs.add(RuleExprName, at(i), "%s has no fields: .%s cannot be read from it", t, p)
			return nil
		}
	}
	return t
}

// suggestOr is suggest, or the fallback sentence when there is nothing to suggest.
func suggestOr(name string, known []string, none string) string {
	if len(known) == 0 {
		if none == "" {
			return ""
		}
		return "; " + none
	}
	return suggest(name, known)
}

type visitor func(n *ast.Node)

func (v visitor) Visit(n *ast.Node) { v(n) }
