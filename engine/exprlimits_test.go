package engine

import (
	"strings"
	"testing"
)

// TestExpressionLimits: an expression too long or nested too deep is a check error at its position,
// found without recursing through it; brackets in its string literals do not count.
func TestExpressionLimits(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, c := range []struct {
		name, expr, at, msg string // at: the position, "" when the expression is accepted
	}{
		{"10,000 parentheses", deep("(", ")", 10000), "7:13", "the expression is 20001 characters long; an expression is at most 4096"},
		{"a million brackets", deep("[", "]", 1000000), "7:13", "the expression is 2000001 characters long"},
		{"65 parentheses", deep("(", ")", 65), "7:77", "the expression nests brackets more than 64 deep"},
		{"65 lists", deep("[", "]", 65) + "[0]", "7:77", "the expression nests brackets more than 64 deep"},
		{"65 maps", strings.Repeat("{a: ", 65) + "1" + strings.Repeat("}", 65), "7:269", "more than 64 deep"},
		{"mixed", deep("len([", "])", 40), "7:176", "more than 64 deep"},
		{"4,097 characters", `"` + strings.Repeat("x", 4095) + `"`, "7:13", "the expression is 4097 characters long"},
		{"64 parentheses", deep("(", ")", 64), "", ""},
		{"brackets in strings", `"` + strings.Repeat("((", 100) + `" + '[[[' + "\"{{{" + ` + "`" + `\` + "`", "", ""},
		{"4,096 characters", `"` + strings.Repeat("x", 4094) + `"`, "", ""},
		{"a long chain of negations", strings.Repeat("-", 4000) + "1", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "name: x\nsteps:\n  - id: a\n    uses: test.echo\n    with:\n      text: |-\n        ${{ " + c.expr + " }}\n"
			_, err := Load("f.yaml", []byte(src), catalog())
			if c.at == "" {
				if err != nil && strings.Contains(err.Error(), "the expression") {
					t.Fatalf("refused: %.300v", err)
				}
				return
			}
			list, ok := err.(Errors)
			if !ok || len(list) == 0 {
				t.Fatalf("got %.300v, want an error", err)
			}
			if got := list[0].Error(); !strings.HasPrefix(got, "f.yaml:"+c.at+": ") || !strings.Contains(got, c.msg) || list[0].Rule != RuleExprSyntax {
				t.Errorf("got  %.300s\nwant f.yaml:%s: ...%s", got, c.at, c.msg)
			}
		})
	}
}
