package route53

import (
	"fmt"
	"strings"
)

// canonicalName returns a domain name the way Route 53 stores it: labels separated by dots, a
// trailing dot, letters in lower case, and every byte other than a-z, 0-9, '-' and '_' written
// as a backslash and three octal digits (so '*' reads "\052", as Route 53 answers it). Escapes
// in the input (\DDD octal, or \X for a literal X) are decoded first, so "\052.a" and "*.a" are
// the same name. It fails, in AWS's words, on an empty label.
func canonicalName(name string) (string, error) {
	labels, err := splitLabels(name)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for _, label := range labels {
		for _, c := range []byte(label) {
			switch {
			case c >= 'A' && c <= 'Z':
				out.WriteByte(c + 'a' - 'A')
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
				out.WriteByte(c)
			default:
				fmt.Fprintf(&out, "\\%03o", c)
			}
		}
		out.WriteByte('.')
	}
	return out.String(), nil
}

// splitLabels decodes name into its raw labels, without the root. "example.com" and
// "example.com." give the same labels.
func splitLabels(name string) ([]string, error) {
	if name == "" || name == "." {
		return nil, fmt.Errorf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", name)
	}
	var labels []string
	var label []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' && i+3 < len(name) && isOctal(name[i+1]) && isOctal(name[i+2]) && isOctal(name[i+3]):
			v := int(name[i+1]-'0')*64 + int(name[i+2]-'0')*8 + int(name[i+3]-'0')
			if v > 255 {
				return nil, fmt.Errorf("FATAL problem: InvalidCharacterString (Value contains an invalid escape sequence) encountered with '%s'", name)
			}
			label = append(label, byte(v))
			i += 3
		case c == '\\' && i+1 < len(name):
			label = append(label, name[i+1])
			i++
		case c == '\\':
			return nil, fmt.Errorf("FATAL problem: InvalidCharacterString (Value ends with a backslash) encountered with '%s'", name)
		case c == '.':
			if len(label) == 0 {
				return nil, fmt.Errorf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", name)
			}
			labels = append(labels, string(label))
			label = nil
		default:
			label = append(label, c)
		}
	}
	if len(label) > 0 {
		labels = append(labels, string(label))
	}
	for _, l := range labels {
		if len(l) > 63 {
			return nil, fmt.Errorf("FATAL problem: LabelTooLong (Label is too long) encountered with '%s'", name)
		}
	}
	return labels, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// sortKey is the key Route 53 orders names by: the labels reversed, each in its stored (escaped)
// form, with a trailing dot ("www.example.com." sorts as "com.example.www."). name must be
// canonical.
func sortKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	var out strings.Builder
	for i := len(labels) - 1; i >= 0; i-- {
		out.WriteString(labels[i])
		out.WriteByte('.')
	}
	return out.String()
}

// inZone reports whether the canonical name lies in the canonical zone (the apex included).
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
