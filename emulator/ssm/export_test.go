package ssm

// SetTierLimits lowers how many standard and advanced parameters s accepts, so that tests reach
// the limits without creating 110,000 parameters.
func SetTierLimits(s *Service, standard, advanced int) {
	s.backend.limits = tierLimits{standard: standard, advanced: advanced}
}
