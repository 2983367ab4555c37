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
