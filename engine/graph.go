package engine

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A workflow's steps form a graph: each step waits for the steps in its After. Without `needs`
// anywhere, every step waits for the one before it, which is today's order. Once a step declares
// needs, it waits for exactly those and for the steps its expressions read; a step without needs
// still waits for the step before it (and for the steps it reads), so adding needs to one step
// never lets another one jump ahead. Needs only name steps declared earlier: the file's order is
// always an order the steps can run in, so a cycle cannot be written, and one attempted is
// reported as a cycle.

// loadNeeds reads a step's needs: a list of ids of steps declared before it.
func (l *loader) loadNeeds(n *yaml.Node, st *Step, visible map[string]*Step) {
	st.Needs = []Need{}
	if n.Kind != yaml.SequenceNode {
		l.errorf(RuleValueType, n, "needs must be a list of step ids, e.g. [meta], got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
			l.errorf(RuleValueType, item, "needs lists step ids, got %s", kindName(item))
			continue
		}
		id := item.Value
		switch line, declared := l.declared[id]; {
		case id == st.ID:
			l.errorf(RuleNeeds, item, "step %q cannot need itself", id)
		case seen[id]:
			l.errorf(RuleNeeds, item, "step %q is listed twice in needs", id)
		case visible[id] != nil:
			st.Needs = append(st.Needs, Need{ID: id, Pos: l.pos(item)})
		case declared:
			if cycle := l.needsCycle(st.ID, id); cycle != nil {
				l.errorf(RuleNeeds, item, "needs form a cycle: %s", strings.Join(cycle, " -> "))
			} else {
				l.errorf(RuleNeeds, item, "step %q is declared later (line %d): needs names only steps declared before this one", id, line)
			}
		default:
			names := make([]string, 0, len(visible))
			for name := range visible {
				names = append(names, name)
			}
			sort.Strings(names)
			l.errorf(RuleNeeds, item, "unknown step %q in needs%s", id, suggestOr(id, names, "no step is declared before this one"))
		}
		seen[id] = true
	}
}

// needsCycle returns the path from step to, through the needs as written, back to from, or nil.
func (l *loader) needsCycle(from, to string) []string {
	written := map[string][]string{}
	for _, s := range l.stepNodes {
		var id string
		var needs []string
		for i := 0; i+1 < len(s.Content); i += 2 {
			switch k, v := s.Content[i], s.Content[i+1]; k.Value {
			case "id":
				id = v.Value
			case "needs":
				for _, item := range v.Content {
					needs = append(needs, item.Value)
				}
			}
		}
		written[id] = needs
	}
	seen := map[string]bool{}
	var walk func(at string) []string
	walk = func(at string) []string {
		if at == from {
			return []string{at}
		}
		if seen[at] {
			return nil
		}
		seen[at] = true
		for _, next := range written[at] {
			if path := walk(next); path != nil {
				return append([]string{at}, path...)
			}
		}
		return nil
	}
	if path := walk(to); path != nil {
		return append([]string{from}, path...)
	}
	return nil
}

// link works out every step's After from its needs, its reads and the file's order.
func (wf *Workflow) link() {
	for i, st := range wf.Steps {
		st.index = i
		wf.Graph = wf.Graph || st.Needs != nil
	}
	defer func() {
		for i, st := range wf.Steps {
			for _, a := range st.After {
				a.next = append(a.next, i)
			}
		}
	}()
	if !wf.Graph {
		for i, st := range wf.Steps {
			if i > 0 {
				st.After = []*Step{wf.Steps[i-1]}
			}
		}
		return
	}
	byID := make(map[string]*Step, len(wf.Steps))
	for _, st := range wf.Steps {
		byID[st.ID] = st
	}
	// ancestors[i] has bit j set when step i waits, directly or not, for step j.
	words := (len(wf.Steps) + 63) / 64
	ancestors := make([][]uint64, len(wf.Steps))
	for i, st := range wf.Steps {
		direct := make([]uint64, words)
		if st.Needs == nil && i > 0 {
			direct[(i-1)/64] |= 1 << ((i - 1) % 64)
		}
		for _, n := range st.Needs {
			j := byID[n.ID].index
			direct[j/64] |= 1 << (j % 64)
		}
		for id := range st.reads {
			if dep := byID[id]; dep != nil && dep.index < i {
				direct[dep.index/64] |= 1 << (dep.index % 64)
			}
		}
		// Drop a direct wait already implied by another: a step that waits for params, which
		// waits for meta, does not list meta.
		all := make([]uint64, words)
		implied := make([]uint64, words)
		forEachBit(direct, func(j int) {
			for w := range all {
				all[w] |= ancestors[j][w]
				implied[w] |= ancestors[j][w]
			}
			all[j/64] |= 1 << (j % 64)
		})
		ancestors[i] = all
		forEachBit(direct, func(j int) {
			if implied[j/64]&(1<<(j%64)) == 0 {
				st.After = append(st.After, wf.Steps[j])
			}
		})
	}
}

// forEachBit calls fn with the index of every set bit, in ascending order.
func forEachBit(set []uint64, fn func(int)) {
	for w, word := range set {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			fn(w*64 + b)
			word &^= 1 << b
		}
	}
}

// loadParallel reads a for_each step's parallel: a literal whole number from 1 to MaxParallel,
// or an int expression (checked when the step runs, and capped at MaxParallel).
func (l *loader) loadParallel(n *yaml.Node, st *Step, sc *scope) {
	psc := *sc
	psc.what = "parallel"
	v := l.value(n, Int(), &psc, "")
	if v == nil {
		return
	}
	if lit, ok := v.Literal(); ok {
		if i, isInt := lit.(int); !isInt || i < 1 || i > MaxParallel {
			l.errorf(RuleValueType, n, "parallel must be a whole number from 1 to %d, got %s", MaxParallel, kindName(n))
			return
		}
	}
	st.Parallel = &Parallel{Value: v}
}

// forEachOnly says that key means nothing without for_each.
func forEachOnly(key string) string {
	return fmt.Sprintf("%s applies to a step with for_each (it says how its items run)", key)
}
