package ssm

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

const (
	typeString       = "String"
	typeStringList   = "StringList"
	typeSecureString = "SecureString"

	tierStandard    = "Standard"
	tierAdvanced    = "Advanced"
	tierIntelligent = "Intelligent-Tiering"

	dataTypeText  = "text"
	dataTypeImage = "aws:ec2:image"

	defaultKeyID = "alias/aws/ssm"

	maxStandardValue    = 4096 // bytes
	maxAdvancedValue    = 8192
	maxVersions         = 100 // Parameter Store keeps the 100 most recent versions
	maxStandardParams   = 10000
	maxAdvancedParams   = 100000
	parameterLimitError = "You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again."
)

// state is the Parameter Store's persistent state: one JSON document that the processes opening
// the same directory share. SecureString values are in it only as ciphertext.
type state struct {
	Region     string                      `json:"region"`     // "" in a state written before regions
	Parameters map[string]*storedParameter `json:"parameters"` // by paramKey
}

// storedParameter is one parameter and its versions.
type storedParameter struct {
	Name     string            `json:"name"` // as it was first created
	Tags     map[string]string `json:"tags,omitempty"`
	Versions []storedVersion   `json:"versions"` // oldest first; the last one is current
}

// storedVersion is one version of a parameter.
type storedVersion struct {
	Version        int64     `json:"version"`
	Type           string    `json:"type"`
	Value          string    `json:"value,omitempty"`  // String and StringList
	Sealed         []byte    `json:"sealed,omitempty"` // SecureString: the value, encrypted
	KeyID          string    `json:"keyId,omitempty"`  // SecureString only
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	DataType       string    `json:"dataType"`
	Tier           string    `json:"tier"`
	Modified       time.Time `json:"modified"`
}

func (p *storedParameter) current() *storedVersion { return &p.Versions[len(p.Versions)-1] }

// backend is the Parameter Store of one account and region: user parameters in the shared state
// document, and AWS's read-only public parameters in memory. Its methods return a *wire.Error for
// every failure AWS answers; any other error is an internal failure.
type backend struct {
	doc       *store.Doc[state]
	sealer    *sealer
	public    map[string]*storedParameter // by paramKey, all under /aws/
	publicIdx []string                    // the keys of public, sorted
	clock     func() time.Time
	region    string
	account   string
	limits    tierLimits
}

// tierLimits are how many parameters of each tier an account may have in a region: 10,000
// standard and 100,000 advanced, as AWS's quotas say. Tests lower them.
type tierLimits struct {
	standard, advanced int
}

// parameterValue is one version of a parameter as GetParameter(s) and GetParametersByPath answer
// it. Value is the plaintext, or for a SecureString read without decryption the base64 of its
// ciphertext.
type parameterValue struct {
	Name     string
	Type     string
	Value    string
	Version  int64
	Selector string
	Modified time.Time
	ARN      string
	DataType string
}

// parameterMetadata is a parameter as DescribeParameters answers it: everything but the value.
type parameterMetadata struct {
	Name           string
	ARN            string
	Type           string
	KeyID          string
	Modified       time.Time
	Description    string
	AllowedPattern string
	Version        int64
	Tier           string
	DataType       string
}

// arn returns the ARN of the parameter named name. Public parameters belong to no account.
func (b *backend) arn(name string) string {
	account := b.account
	if strings.HasPrefix(paramKey(name), "/aws/") {
		account = ""
	}
	return "arn:aws:ssm:" + b.region + ":" + account + ":parameter/" + arnName(name)
}

// caller is the ARN of whoever changes a parameter, as DescribeParameters' LastModifiedUser
// names it: the account's root user. The emulator has no IAM and takes any credentials, so every
// caller acts as the account itself, which is what the root user's ARN stands for; a made-up user
// name would look like information the emulator does not have.
func (b *backend) caller() string {
	return "arn:aws:iam::" + b.account + ":root"
}

func (b *backend) arnPrefix() string {
	return "arn:aws:ssm:" + b.region + ":" + b.account + ":parameter/"
}

// putRequest is a validated PutParameter request. Empty Type, Tier and DataType and nil
// Description and AllowedPattern mean "as the current version has it" (or the default when
// creating).
type putRequest struct {
	Name           string
	Value          string
	Type           string
	KeyID          string
	Description    *string
	AllowedPattern *string
	Overwrite      bool
	Tags           map[string]string
	Tier           string
	DataType       string
}

// errNotStored is returned from inside an update that must store nothing yet answer success.
type errNotStored struct {
	version int64
	tier    string
}

func (errNotStored) Error() string { return "not stored" }

// put creates the parameter, or with Overwrite adds a version to it, and returns the new version
// and its tier. It returns
//   - AccessDeniedException or ValidationException for a name AWS reserves or refuses (see
//     checkWriteName), HierarchyLevelLimitExceededException for a hierarchy deeper than 15 levels;
//   - ParameterAlreadyExists when the parameter exists and Overwrite is false;
//   - ValidationException when creating without a Type, for a KeyId with a type other than
//     SecureString, an unknown data type, a change of data type, aws:ec2:image on a type other
//     than String, a value over its tier's size, or a downgrade from the Advanced tier;
//   - InvalidAllowedPatternException / ParameterPatternMismatchException for an AllowedPattern
//     that does not compile or that the value does not match;
//   - ParameterLimitExceeded when creating a standard parameter beyond 10,000, or making an
//     advanced one (new, or moved up from Standard) beyond 100,000.
//
// A parameter of data type aws:ec2:image whose value is not an AMI id is answered with success
// and not stored: AWS validates those asynchronously and drops the write that fails.
func (b *backend) put(ctx context.Context, req putRequest) (version int64, tier string, err error) {
	if err := checkWriteName(req.Name, b.arnPrefix()); err != nil {
		return 0, "", err
	}
	if req.Overwrite && len(req.Tags) > 0 {
		return 0, "", newError(codeValidation, "Invalid request: tags and overwrite can't be used together. "+
			"To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, "+
			"please use AddTagsToResource or RemoveTagsFromResource.")
	}
	key := paramKey(req.Name)
	now := b.clock()
	err = b.doc.Update(ctx, func(st *state) error {
		if st.Parameters == nil {
			st.Parameters = map[string]*storedParameter{}
		}
		p := st.Parameters[key]
		var cur *storedVersion
		if p != nil {
			cur = p.current()
		}
		if p != nil && !req.Overwrite {
			return newError(codeParameterAlreadyExists,
				"The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		v, err := b.newVersion(req, cur)
		if err != nil {
			return err
		}
		if err := b.checkLimits(st, v.Tier, cur); err != nil {
			return err
		}
		v.Version = 1
		if p != nil {
			v.Version = cur.Version + 1
		}
		if v.DataType == dataTypeImage && !wire.IsImageID(req.Value) {
			return errNotStored{v.Version, v.Tier}
		}
		v.Modified = now
		if v.Type == typeSecureString {
			v.Sealed = b.sealer.seal(key, req.Value)
		} else {
			v.Value = req.Value
		}
		if p == nil {
			p = &storedParameter{Name: req.Name, Tags: req.Tags}
			st.Parameters[key] = p
		}
		p.Versions = append(p.Versions, v)
		if len(p.Versions) > maxVersions {
			p.Versions = slices.Delete(p.Versions, 0, len(p.Versions)-maxVersions)
		}
		version, tier = v.Version, v.Tier
		return nil
	})
	var dropped errNotStored
	if errors.As(err, &dropped) {
		return dropped.version, dropped.tier, nil
	}
	return version, tier, err
}

// newVersion applies the request to the current version cur (nil when creating) and checks what
// depends on both; Version, Modified and the value are left to the caller.
func (b *backend) newVersion(req putRequest, cur *storedVersion) (storedVersion, error) {
	v := storedVersion{Type: req.Type, DataType: req.DataType}
	if cur != nil {
		v.Description, v.AllowedPattern = cur.Description, cur.AllowedPattern
		if v.Type == "" {
			v.Type = cur.Type
		}
		if v.DataType == "" {
			v.DataType = cur.DataType
		}
	}
	if v.Type == "" {
		return v, newError(codeValidation, "A parameter type is required when you create a parameter.")
	}
	if v.DataType == "" {
		v.DataType = dataTypeText
	}
	if req.Description != nil {
		v.Description = *req.Description
	}
	if req.AllowedPattern != nil {
		v.AllowedPattern = *req.AllowedPattern
	}

	switch {
	case req.KeyID != "" && v.Type != typeSecureString:
		return v, newError(codeValidation, "KeyId is required for SecureString type parameter only.")
	case v.Type == typeSecureString && req.KeyID != "":
		v.KeyID = req.KeyID
	case v.Type == typeSecureString && cur != nil && cur.Type == typeSecureString:
		v.KeyID = cur.KeyID
	case v.Type == typeSecureString:
		v.KeyID = defaultKeyID
	}

	switch v.DataType {
	case dataTypeText, dataTypeImage, "aws:ssm:integration":
	default:
		return v, newError(codeValidation, "The following data type is not supported: %s (Data type names are all lowercase.)", v.DataType)
	}
	if cur != nil && v.DataType != cur.DataType {
		return v, newError(codeValidation,
			"The data type of an existing parameter can't be changed: %s has data type %s.", req.Name, cur.DataType)
	}
	if v.DataType == dataTypeImage && v.Type != typeString {
		return v, newError(codeValidation, "The data type %s is supported only for parameters of type String.", dataTypeImage)
	}

	tier, err := chooseTier(req.Tier, cur, len(req.Value))
	if err != nil {
		return v, err
	}
	v.Tier = tier

	if v.AllowedPattern != "" {
		re, err := regexp.Compile(v.AllowedPattern)
		if err != nil {
			return v, newError(codeInvalidAllowedPattern, "The allowed pattern %s is not a valid regular expression.", v.AllowedPattern)
		}
		if !re.MatchString(req.Value) {
			return v, newError(codePatternMismatch, "Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
		}
	}
	return v, nil
}

// chooseTier returns the tier a value of size bytes is stored in, given the requested tier
// (empty: the current version's, or Standard) and the current version (nil when creating).
func chooseTier(requested string, cur *storedVersion, size int) (string, error) {
	if requested == "" {
		requested = tierStandard
		if cur != nil {
			requested = cur.Tier
		}
	}
	tier := requested
	switch requested {
	case tierIntelligent:
		tier = tierStandard
		if size > maxStandardValue || cur != nil && cur.Tier == tierAdvanced {
			tier = tierAdvanced
		}
	case tierStandard:
		if cur != nil && cur.Tier == tierAdvanced {
			return "", newError(codeValidation, "This parameter uses the advanced-parameter tier. You can't downgrade a "+
				"parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete "+
				"the advanced parameter and recreate it as a standard parameter.")
		}
	}
	if tier == tierStandard && size > maxStandardValue {
		return "", newError(codeValidation, "Standard tier parameters support a maximum parameter value of %d characters. "+
			"To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more "+
			"information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
			maxStandardValue)
	}
	if size > maxAdvancedValue {
		return "", newError(codeValidation, "Advanced tier parameters support a maximum parameter value of %d characters.",
			maxAdvancedValue)
	}
	return tier, nil
}

// checkLimits returns ParameterLimitExceeded when a version of tier would make one parameter
// too many of its tier: a new parameter, or one that moves to the Advanced tier (cur is the
// version it replaces, nil when creating).
func (b *backend) checkLimits(st *state, tier string, cur *storedVersion) error {
	limit := b.limits.standard
	if tier == tierAdvanced {
		limit = b.limits.advanced
	}
	if (cur != nil && cur.Tier == tier) || len(st.Parameters) < limit {
		return nil
	}
	n := 0
	for _, p := range st.Parameters {
		if p.current().Tier == tier {
			n++
		}
	}
	if n >= limit {
		return newError(codeParameterLimitExceeded, parameterLimitError)
	}
	return nil
}

// found is a version of a parameter copied out of the state, to be answered once the state is
// released.
type found struct {
	key      string
	name     string
	selector string
	v        storedVersion
}

// find looks up the parameter sel names in st or among the public parameters. It returns
// ParameterNotFound when there is none (or the selector is a label: no version carries one) and
// ParameterVersionNotFound when the selected version does not exist.
func (b *backend) find(st *state, sel selector) (found, error) {
	key := paramKey(sel.name)
	var p *storedParameter
	if strings.HasPrefix(key, "/aws/") {
		p = b.public[key]
	} else {
		p = st.Parameters[key]
	}
	if p == nil || sel.label != "" {
		return found{}, newError(codeParameterNotFound, "")
	}
	v := p.current()
	if sel.version != 0 {
		i := slices.IndexFunc(p.Versions, func(v storedVersion) bool { return v.Version == sel.version })
		if i < 0 {
			return found{}, newError(codeVersionNotFound,
				"Systems Manager could not find version %d of %s. Verify the version and try again.", sel.version, sel.name)
		}
		v = &p.Versions[i]
	}
	f := found{key: key, name: p.Name, selector: sel.suffix, v: *v}
	f.v.Sealed = slices.Clone(v.Sealed)
	return f, nil
}

// value turns a found version into the answer of a Get operation, decrypting a SecureString when
// decrypt is true and giving the base64 of its ciphertext otherwise.
func (b *backend) value(f found, decrypt bool) (parameterValue, error) {
	pv := parameterValue{
		Name: f.name, Type: f.v.Type, Value: f.v.Value, Version: f.v.Version, Selector: f.selector,
		Modified: f.v.Modified, ARN: b.arn(f.name), DataType: f.v.DataType,
	}
	if f.v.Type == typeSecureString {
		if !decrypt {
			pv.Value = base64.StdEncoding.EncodeToString(f.v.Sealed)
		} else {
			plain, err := b.sealer.open(f.key, f.v.Sealed)
			if err != nil {
				return pv, err
			}
			pv.Value = plain
		}
	}
	return pv, nil
}

// get returns the parameter (or the version) raw names. It returns ParameterNotFound or
// ParameterVersionNotFound as find does, and ValidationException for a name with a space inside.
func (b *backend) get(ctx context.Context, raw string, decrypt bool) (parameterValue, error) {
	sel, ok, verr := parseSelector(raw, b.region, b.account)
	if verr != nil {
		return parameterValue{}, verr
	}
	if !ok {
		return parameterValue{}, newError(codeParameterNotFound, "")
	}
	var f found
	err := b.doc.View(ctx, func(st *state) (err error) {
		f, err = b.find(st, sel)
		return err
	})
	if err != nil {
		return parameterValue{}, err
	}
	return b.value(f, decrypt)
}

// getMany returns the parameters that names name, sorted by name, and the names that name none
// (nor a version that exists), in the order given, each once. It returns ValidationException for
// a name with a space inside.
func (b *backend) getMany(ctx context.Context, names []string, decrypt bool) (params []parameterValue, invalid []string, err error) {
	sels := make([]selector, len(names))
	oks := make([]bool, len(names))
	for i, raw := range names {
		var verr *wire.Error
		if sels[i], oks[i], verr = parseSelector(raw, b.region, b.account); verr != nil {
			return nil, nil, verr
		}
	}
	var founds []found
	seen := make(map[string]bool, len(names))
	err = b.doc.View(ctx, func(st *state) error {
		for i, raw := range names {
			if seen[raw] {
				continue
			}
			seen[raw] = true
			if !oks[i] {
				invalid = append(invalid, raw)
				continue
			}
			f, err := b.find(st, sels[i])
			var api *wire.Error
			if errors.As(err, &api) {
				invalid = append(invalid, raw)
				continue
			}
			if err != nil {
				return err
			}
			founds = append(founds, f)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	params = make([]parameterValue, 0, len(founds))
	for _, f := range founds {
		pv, err := b.value(f, decrypt)
		if err != nil {
			return nil, nil, err
		}
		params = append(params, pv)
	}
	sort.SliceStable(params, func(i, j int) bool { return params[i].Name < params[j].Name })
	return params, invalid, nil
}

// pathQuery is a validated GetParametersByPath request.
type pathQuery struct {
	Path      string // normalised by normPath
	Recursive bool
	Filters   []stringFilter
	Max       int
	After     string // the key the previous page ended with; "" for the first page
	Decrypt   bool
}

// byPath returns one page of the parameters in a hierarchy, in the order of their keys, and the
// key to continue after when more follow. Paths under /aws/ list the public parameters, all others
// the account's own.
func (b *backend) byPath(ctx context.Context, q pathQuery) (page []parameterValue, next string, err error) {
	var founds []found
	collect := func(keys []string, params map[string]*storedParameter) {
		start, _ := slices.BinarySearch(keys, q.After)
		for _, key := range keys[start:] {
			if key == q.After || !underPath(key, q.Path, q.Recursive) {
				continue
			}
			p := params[key]
			if !p.matches(p.current(), q.Filters) {
				continue
			}
			if len(founds) == q.Max {
				next = founds[len(founds)-1].key
				return
			}
			v := *p.current()
			v.Sealed = slices.Clone(v.Sealed)
			founds = append(founds, found{key: key, name: p.Name, v: v})
		}
	}
	if q.Path == "/aws" || strings.HasPrefix(q.Path, "/aws/") {
		collect(b.publicIdx, b.public)
	} else {
		err = b.doc.View(ctx, func(st *state) error {
			collect(sortedKeys(st.Parameters), st.Parameters)
			return nil
		})
	}
	if err != nil {
		return nil, "", err
	}
	page = make([]parameterValue, 0, len(founds))
	for _, f := range founds {
		pv, err := b.value(f, q.Decrypt)
		if err != nil {
			return nil, "", err
		}
		page = append(page, pv)
	}
	return page, next, nil
}

func sortedKeys(m map[string]*storedParameter) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describeQuery is a validated DescribeParameters request.
type describeQuery struct {
	Filters []stringFilter
	Legacy  []legacyFilter
	Max     int
	After   string
}

// describe returns one page of the account's parameters that pass the filters, in the order of
// their keys, and the key to continue after when more follow. Public parameters are not listed,
// as AWS does not list them.
func (b *backend) describe(ctx context.Context, q describeQuery) (page []parameterMetadata, next string, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		keys := sortedKeys(st.Parameters)
		start, _ := slices.BinarySearch(keys, q.After)
		for _, key := range keys[start:] {
			p := st.Parameters[key]
			v := p.current()
			if key == q.After || !p.matches(v, q.Filters) || !p.matchesLegacy(v, q.Legacy) {
				continue
			}
			if len(page) == q.Max {
				next = paramKey(page[len(page)-1].Name)
				return nil
			}
			page = append(page, parameterMetadata{
				Name: p.Name, ARN: b.arn(p.Name), Type: v.Type, KeyID: v.KeyID, Modified: v.Modified,
				Description: v.Description, AllowedPattern: v.AllowedPattern, Version: v.Version, Tier: v.Tier,
				DataType: v.DataType,
			})
		}
		return nil
	})
	return page, next, err
}

// delete deletes the parameter name and all its versions. It returns AccessDeniedException or
// ValidationException for a reserved name (checkReserved) and ParameterNotFound when there is no
// such parameter.
func (b *backend) delete(ctx context.Context, name string) error {
	if err := checkReserved(name); err != nil {
		return err
	}
	key := paramKey(name)
	return b.doc.Update(ctx, func(st *state) error {
		if st.Parameters[key] == nil {
			return newError(codeParameterNotFound, "")
		}
		delete(st.Parameters, key)
		return nil
	})
}

// deleteMany deletes the parameters names name and returns the names it deleted and the names
// that named no parameter it could delete, each once, in the order given.
func (b *backend) deleteMany(ctx context.Context, names []string) (deleted, invalid []string, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		deleted, invalid = nil, nil
		seen := map[string]bool{}
		for _, raw := range names {
			if seen[raw] {
				continue
			}
			seen[raw] = true
			name := strings.TrimSpace(raw)
			key := paramKey(name)
			if name == "" || checkReserved(name) != nil || st.Parameters[key] == nil {
				invalid = append(invalid, raw)
				continue
			}
			delete(st.Parameters, key)
			deleted = append(deleted, raw)
		}
		return nil
	})
	return deleted, invalid, err
}

// plainValue returns the value of the parameter (or version) name selects, for another emulated
// service. ok is false when there is none, and for a SecureString, whose plaintext it never gives.
func (b *backend) plainValue(ctx context.Context, name string) (string, bool, error) {
	sel, ok, verr := parseSelector(name, b.region, b.account)
	if verr != nil || !ok {
		return "", false, nil
	}
	var f found
	err := b.doc.View(ctx, func(st *state) (err error) {
		f, err = b.find(st, sel)
		return err
	})
	var api *wire.Error
	if errors.As(err, &api) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if f.v.Type == typeSecureString {
		return "", false, nil
	}
	return f.v.Value, true, nil
}
