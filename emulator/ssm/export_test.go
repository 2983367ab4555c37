package ssm

// SetTierLimits lowers how many standard and advanced parameters s accepts, so that tests reach
// the limits without creating 110,000 parameters.
func SetTierLimits(s *Service, standard, advanced int) {
	s.backend.limits = tierLimits{standard: standard, advanced: advanced}
}

// OperationsWithoutShape lists the operations of s's dispatch table that the model's
// constraints (inputs) do not cover.
func OperationsWithoutShape(s *Service) []string {
	var out []string
	for op := range s.ops {
		if inputs[op] == nil {
			out = append(out, op)
		}
	}
	return out
}

// CompilePatterns compiles the pattern of every string in the model's input shapes, as a
// request's validation would on first use, and returns how many it compiled: a pattern Go's
// regexp cannot take panics here, in a test, not in a serving emulator.
func CompilePatterns() int {
	n := 0
	var walk func(s *shape)
	walk = func(s *shape) {
		if s == nil {
			return
		}
		if s.re != nil {
			s.re()
			n++
		}
		walk(s.member)
		for _, f := range s.fields {
			walk(f.shape)
		}
	}
	for _, in := range inputs {
		walk(in)
	}
	return n
}
