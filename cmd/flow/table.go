package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// table renders a list of objects (maps of scalars and lists of scalars), such as status.yaml's
// clients, as a table for people: a header of the keys in order, a row an object, "-" for an
// empty value, lists joined by commas, each line indented by indent. It reports false for any
// other value, which is then printed as JSON.
func table(v any, indent string) (string, bool) {
	rows, ok := v.([]any)
	if !ok || len(rows) == 0 {
		return "", false
	}
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		m, ok := r.(map[string]any)
		if !ok || len(m) == 0 {
			return "", false
		}
		for k, cell := range m {
			if _, ok := cellText(cell); !ok {
				return "", false
			}
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, indent+strings.Join(cols, "\t"))
	for _, r := range rows {
		m := r.(map[string]any)
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i], _ = cellText(m[c])
		}
		fmt.Fprintln(w, indent+strings.Join(cells, "\t"))
	}
	w.Flush()
	return b.String(), true
}

// cellText is a table cell: a scalar as text, a list of scalars joined by commas, "-" when
// empty; false for anything else (a map, a list of lists, a value on several lines).
func cellText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "-", true
	case string:
		if x == "" {
			return "-", true
		}
		return x, !strings.ContainsAny(x, "\t\n")
	case bool, int, int64, float64:
		return fmt.Sprint(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := cellText(e)
			if _, nested := e.([]any); !ok || nested {
				return "", false
			}
			parts = append(parts, s)
		}
		if len(parts) == 0 {
			return "-", true
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}
