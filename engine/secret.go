package engine

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Mask is what flow prints in place of a secret.
const Mask = "***"

// Masker knows the run's secret values and replaces them wherever flow prints: text output, JSON
// events, error messages, the dry-run plan. A string that contains a secret is masked where the
// secret stands; a value computed from a secret is itself registered as one, so base64 or JSON of
// a secret is masked too. The zero Masker is ready to use; it is safe for concurrent use.
type Masker struct {
	mu       sync.RWMutex
	secrets  map[string]struct{} // masked wherever they appear
	short    map[string]struct{} // masked only as a whole value; see minSubstring
	replacer *strings.Replacer   // nil: rebuild
}

// minSubstring is the shortest secret masked inside longer text. A shorter one (a SecureString
// "1" or "on") would turn every 1 or "on" flow prints into ***, so it is masked only where it is a
// whole value: an output, an argument, an item.
const minSubstring = 4

// Add registers s, and the forms it takes when printed quoted or line by line, as secret.
func (m *Masker) Add(s string) {
	if s == "" {
		return
	}
	forms := []string{s}
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		forms = append(forms, q[1:len(q)-1])
	}
	if j, err := json.Marshal(s); err == nil && string(j[1:len(j)-1]) != s {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	if strings.Contains(s, "\n") {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 3 {
				forms = append(forms, line)
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secrets == nil {
		m.secrets = make(map[string]struct{})
		m.short = make(map[string]struct{})
	}
	for _, f := range forms {
		if len(f) < minSubstring {
			m.short[f] = struct{}{}
			continue
		}
		if _, ok := m.secrets[f]; !ok {
			m.secrets[f] = struct{}{}
			m.replacer = nil
		}
	}
}

// empty reports whether no secret is known, so there is nothing to mask or taint.
func (m *Masker) empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.secrets)+len(m.short) == 0
}

// AddValue registers every string inside v (a string, list or map) as secret, and the keys that
// name a secret leaf: in {DB_PASSWORD: s3cret} the name DB_PASSWORD is secret too, so an error or
// an output that names the setting does not tell what the secret is. A key whose value is itself a
// map or list is structure, not a secret's name: in a fleet's {acme: {DB_PASSWORD: s3cret}} the
// client id acme stays readable (masking it would turn every mention of the client into ***).
func (m *Masker) AddValue(v any) {
	walkStrings(v, func(s string) bool { m.Add(s); return false })
	walkLeafKeys(v, func(k string) { m.Add(k) })
}

// walkLeafKeys calls fn on every map key inside v whose value is not a map or list.
func walkLeafKeys(v any, fn func(string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkLeafKeys(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				walkLeafKeys(e, fn)
			default:
				fn(k)
			}
		}
	}
}

// credentialWords are the parts of an environment variable's name that say it holds a credential.
var credentialWords = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "SESSION"}

// CredentialName reports whether an environment variable's name says it holds a credential
// (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, DB_PASSWORD, API_KEY, ...): its value is secret
// wherever an expression reads it.
func CredentialName(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range credentialWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// Mask returns s with every secret replaced by *** (a secret shorter than minSubstring only when
// it is the whole of s).
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	r, n := m.replacer, len(m.secrets)
	_, short := m.short[s]
	m.mu.RUnlock()
	if short {
		return Mask
	}
	if n == 0 || s == "" {
		return s
	}
	if r == nil {
		m.mu.Lock()
		if m.replacer == nil {
			olds := make([]string, 0, len(m.secrets))
			for k := range m.secrets {
				olds = append(olds, k)
			}
			// Longer secrets first, so a secret that contains another is masked whole.
			sort.Slice(olds, func(i, j int) bool {
				if len(olds[i]) != len(olds[j]) {
					return len(olds[i]) > len(olds[j])
				}
				return olds[i] < olds[j]
			})
			pairs := make([]string, 0, 2*len(olds))
			for _, o := range olds {
				pairs = append(pairs, o, Mask)
			}
			m.replacer = strings.NewReplacer(pairs...)
		}
		r = m.replacer
		m.mu.Unlock()
	}
	return r.Replace(s)
}

// MaskValue returns a copy of v (a string, list, map or scalar) with every string masked.
func (m *Masker) MaskValue(v any) any {
	switch x := v.(type) {
	case string:
		return m.Mask(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.MaskValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[m.maskKey(k, out)] = m.MaskValue(e)
		}
		return out
	case int, int64, float64:
		// A secret number (a PIN) is registered as its text; shown as a number it is masked too.
		if t := stringify(x); m.Mask(t) != t {
			return Mask
		}
		return v
	case Unknown:
		// Its text may hold known parts: a secret interpolated next to a step's output.
		return Unknown{Text: m.Mask(x.Text)}
	case nil, bool:
		return v
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = m.MaskValue(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[m.maskKey(iter.Key().String(), out)] = m.MaskValue(iter.Value().Interface())
		}
		return out
	case reflect.String:
		return m.Mask(rv.String())
	}
	return v
}

// maskKey returns map key k masked, numbered when an earlier masked key of out took its place
// (two secret keys are *** and ***2, not one entry).
func (m *Masker) maskKey(k string, out map[string]any) string {
	masked := m.Mask(k)
	if masked == k {
		return k
	}
	for i := 2; ; i++ {
		if _, taken := out[masked]; !taken {
			return masked
		}
		masked = m.Mask(k) + strconv.Itoa(i)
	}
}

// Tainted reports whether any string inside v contains a secret.
func (m *Masker) Tainted(v any) bool {
	m.mu.RLock()
	n := len(m.secrets) + len(m.short)
	m.mu.RUnlock()
	if n == 0 {
		return false
	}
	return walkStrings(v, func(s string) bool { return s != "" && m.Mask(s) != s })
}

// walkStrings calls fn on every string inside v until fn returns true, and reports whether it did.
func walkStrings(v any, fn func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for _, e := range x {
			if walkStrings(e, fn) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if walkStrings(e, fn) {
				return true
			}
		}
		return false
	case int, int64, float64:
		return fn(stringify(x))
	case nil, bool:
		return false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return fn(rv.String())
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if walkStrings(rv.Index(i).Interface(), fn) {
				return true
			}
		}
	case reflect.Map:
		iter := rv.MapRange()
		for iter.Next() {
			if walkStrings(iter.Value().Interface(), fn) {
				return true
			}
		}
	}
	return false
}

// addSecretField registers v, the value of field f, as secret where f says so: the whole of it, or
// the members of an object that are secret (a called workflow's secret inputs).
func (m *Masker) addSecretField(f *Field, v any) {
	if f.Secret {
		m.AddValue(v)
		return
	}
	if f.Type.Kind != KindObject {
		return
	}
	obj, _ := v.(map[string]any)
	for _, sub := range f.Type.Fields {
		if sub.Secret {
			if sv, ok := obj[sub.Name]; ok {
				m.AddValue(sv)
				if _, isString := sv.(string); !isString && sv != nil {
					m.Add(stringify(sv))
				}
			}
		}
	}
}
