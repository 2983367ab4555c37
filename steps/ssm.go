package steps

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/flow-infra/flow/engine"
)

func init() {
	Register(new(ssmPut))
	Register(new(ssmGet))
}

// The parameter types Parameter Store knows.
const (
	ssmString       = "String"
	ssmStringList   = "StringList"
	ssmSecureString = "SecureString"
)

// ---- ssm.put

// ssmPut writes one parameter.
type ssmPut struct {
	Name        string `flow:"name,required" doc:"The parameter's name: acme.DB_HOST, or a path such as /clients/acme/DB_HOST."`
	Value       string `flow:"value,required" doc:"Its value. For a SecureString, pass a secret input: the value is masked from then on."`
	Type        string `flow:"type" default:"String" enum:"String,StringList,SecureString" doc:"The parameter's type: a StringList is comma-separated, a SecureString encrypted with KMS."`
	KeyID       string `flow:"key_id" doc:"The KMS key of a SecureString (id, ARN or alias/NAME); default: the account's aws/ssm key."`
	Overwrite   bool   `flow:"overwrite" default:"true" doc:"Replace an existing parameter (a new version); false fails if it exists."`
	Description string `flow:"description" doc:"A description stored with the parameter (at most 1024 characters)."`
}

type ssmPutResult struct {
	Version int  `flow:"version" doc:"The parameter's version after the step: 1 for a new parameter, +1 per write that changed it."`
	Changed bool `flow:"changed" doc:"Whether a new version was written (false: it already held this value and type)."`
}

func (*ssmPut) Info() Info {
	return Info{
		Name: "ssm.put",
		Doc: "Write a parameter to SSM Parameter Store (PutParameter), idempotently: with overwrite (the default) " +
			"it first reads the parameter (GetParameter, decrypted) and writes only when the value or type differs, " +
			"so a re-run makes no new version; a parameter that does not exist is created with Overwrite false, so of " +
			"runs racing to create it one does and the others find their value there: one version; with description or key_id set it always writes, as those cannot " +
			"be compared. With overwrite: false an existing parameter fails the step with ParameterAlreadyExists. " +
			"A SecureString's value is masked as soon as the step starts and never appears in the plan; write it " +
			"from a secret input, not literally in the workflow.",
		New:    func() Step { return new(ssmPut) },
		Output: ssmPutResult{},
	}
}

// paramType is the type to write: the field, or String when a lint sees it unset.
func (s *ssmPut) paramType() string {
	if s.Type == "" {
		return ssmString
	}
	return s.Type
}

func (s *ssmPut) Validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return field("name").errorf("must not be empty")
	}
	if s.KeyID != "" && s.paramType() != ssmSecureString {
		return field("key_id").errorf("only for a SecureString, and type is %s", s.paramType())
	}
	return nil
}

func (s *ssmPut) Lint() []engine.Warning {
	var ws []engine.Warning
	if s.KeyID != "" && s.Type != "" && s.paramType() != ssmSecureString {
		ws = append(ws, engine.Warning{Field: "key_id", Msg: "key_id is only for a SecureString, and type is " + s.paramType()})
	}
	if s.Type == ssmSecureString && s.Value != "" {
		ws = append(ws, engine.Warning{Field: "value", Msg: "this SecureString's value is written literally in the workflow: a secret in a file " +
			"is not secret; declare a secret input (inputs: NAME: {secret: true}) and pass it as ${{ inputs.NAME }}", Secret: true})
	}
	return ws
}

func (s *ssmPut) Plan(rt *engine.Runtime, known Known) []string {
	// A SecureString's value is secret in the plan too (the plan shows the step's arguments):
	// unless only a run knows it, when the plan shows the expression in its place.
	if s.paramType() == ssmSecureString && rt != nil && known.Input("value") {
		rt.Secret(s.Value)
	}
	line := fmt.Sprintf("ssm:PutParameter name=%s type=%s overwrite=%t", s.Name, s.paramType(), s.Overwrite)
	if s.KeyID != "" {
		line += " key_id=" + s.KeyID
	}
	if s.Overwrite && s.Description == "" && s.KeyID == "" {
		return []string{"ssm:GetParameter name=" + s.Name + " (WithDecryption)", line + " (unless it already holds this value)"}
	}
	return []string{line}
}

func (s *ssmPut) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	if s.Type == ssmSecureString {
		rt.Secret(s.Value)
	}
	c, err := ssmClient(ctx)
	if err != nil {
		return nil, err
	}
	in := &ssm.PutParameterInput{
		Name:      aws.String(s.Name),
		Value:     aws.String(s.Value),
		Type:      ssmtypes.ParameterType(s.paramType()),
		Overwrite: aws.Bool(s.Overwrite),
	}
	if s.KeyID != "" {
		in.KeyId = aws.String(s.KeyID)
	}
	if s.Description != "" {
		in.Description = aws.String(s.Description)
	}
	if !s.Overwrite || s.Description != "" || s.KeyID != "" {
		return s.put(ctx, rt, c, in)
	}
	// Why concurrent writers of one value make one version: PutParameter has no condition on
	// the version a writer read, so read-compare-write alone lets every writer that read
	// "missing" write. But a write with Overwrite false is SSM's own atomic create: of writers
	// racing to create the parameter exactly one succeeds (version 1), the others get
	// ParameterAlreadyExists, read what the winner wrote, find it holds their value, and write
	// nothing. A parameter that exists is written only when it differs, with Overwrite; writers
	// racing to change one value to another may each write a version, all of the same value, so
	// the end state is the same whichever wins (SSM offers nothing to make that atomic).
	cur, exists, err := s.read(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	if cur != nil && s.holds(cur) {
		return ssmPutResult{Version: int(cur.Version)}, nil
	}
	if !exists {
		create := *in
		create.Overwrite = aws.Bool(false)
		out, err := c.PutParameter(ctx, &create)
		if err == nil {
			return ssmPutResult{Version: int(out.Version), Changed: true}, nil
		}
		if awsCode(err) != "ParameterAlreadyExists" {
			return nil, awsFail(rt, err, "PutParameter %s", s.Name)
		}
		if cur, _, _ = s.read(ctx, rt, c); cur != nil && s.holds(cur) {
			return ssmPutResult{Version: int(cur.Version)}, nil
		}
	}
	return s.put(ctx, rt, c, in)
}

// put writes the parameter as in says.
func (s *ssmPut) put(ctx context.Context, rt *engine.Runtime, c *ssm.Client, in *ssm.PutParameterInput) (any, error) {
	out, err := c.PutParameter(ctx, in)
	if err != nil {
		fail := awsFail(rt, err, "PutParameter %s", s.Name)
		if awsCode(err) == "ParameterAlreadyExists" {
			fail = fmt.Errorf("%w (overwrite is false; set overwrite: true to write a new version)", fail)
		}
		return nil, fail
	}
	return ssmPutResult{Version: int(out.Version), Changed: true}, nil
}

// read returns the parameter as stored (decrypted), or nil, and whether it may exist: false
// only when SSM said ParameterNotFound. A failure to read it (a blip, no permission to decrypt)
// means "write over it": the read only saves a version, it must never stop a write. But a role
// that may not read it at all (AccessDeniedException naming ssm:GetParameter) fails the step: it
// would write a new version at every run, and the policy is missing what flow iam declares.
func (s *ssmPut) read(ctx context.Context, rt *engine.Runtime, c *ssm.Client) (*ssmtypes.Parameter, bool, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Name), WithDecryption: aws.Bool(true)})
	switch {
	case err == nil:
		return out.Parameter, true, nil
	case awsCode(err) == "AccessDeniedException" && strings.Contains(err.Error(), "ssm:GetParameter "):
		return nil, true, fmt.Errorf("%w (ssm.put reads the parameter before it writes, so that a re-run writes no new version: "+
			"allow ssm:GetParameter on it, as flow iam declares, or set description to always write)", awsFail(rt, err, "GetParameter %s", s.Name))
	}
	return nil, awsCode(err) != "ParameterNotFound", nil
}

// holds reports whether p already holds this value and type: there is nothing to write.
func (s *ssmPut) holds(p *ssmtypes.Parameter) bool {
	return string(p.Type) == s.paramType() && aws.ToString(p.Value) == s.Value
}

// ---- ssm.get

// ssmGet reads parameters by names, by path or by name prefix.
type ssmGet struct {
	Names       []string `flow:"names" doc:"Exact names to read (any number: fetched 10 a call, 8 calls at a time)."`
	Path        string   `flow:"path" doc:"Read every parameter under this path, e.g. /clients/acme (GetParametersByPath)."`
	Recursive   bool     `flow:"recursive" default:"false" doc:"With path: also read parameters in deeper levels."`
	Prefix      string   `flow:"prefix" doc:"Read every parameter whose name begins with this, e.g. acme. (DescribeParameters, then GetParameters); a hierarchy such as /clients/acme/ is read with GetParametersByPath, which IAM can limit to it."`
	Decrypt     bool     `flow:"decrypt" default:"true" doc:"Decrypt SecureStrings (WithDecryption); false returns their ciphertext."`
	StripPrefix bool     `flow:"strip_prefix" default:"false" doc:"Key values by the name after the prefix, or after the path and its /: acme.DB_HOST -> DB_HOST."`
	Optional    bool     `flow:"optional" default:"false" doc:"Missing names, or nothing under the path or prefix, leave values out instead of failing."`
	Require     []string `flow:"require" doc:"Keys that values must hold (after strip_prefix), e.g. [DB_HOST, DB_PASSWORD]: any missing fails the step, naming them all. With a prefix they are read at once, beside the listing's first page."`
}

type ssmGetResult struct {
	Values   map[string]string `flow:"values" doc:"Each parameter's value by name; SecureString values are masked wherever flow prints them."`
	Versions map[string]int    `flow:"versions" doc:"Each parameter's version by name."`
	Types    map[string]string `flow:"types" doc:"Each parameter's type by name: String, StringList or SecureString."`
	Missing  []string          `flow:"missing" doc:"With names and optional: the names that do not exist, sorted."`
}

func (*ssmGet) Info() Info {
	return Info{
		Name: "ssm.get",
		Doc: "Read parameters from SSM Parameter Store, by exact names (GetParameters, 10 names a call, up to 8 calls " +
			"in parallel), by path (GetParametersByPath, paginated) or by name prefix (DescribeParameters with a Name " +
			"BeginsWith filter, paginated, each page's GetParameters while the next page is listed). It only reads. SecureString values are decrypted by " +
			"default and registered as secrets before the step returns, so they print as *** while String values " +
			"print as they are. Names that do not exist fail the step, all named in one error, unless optional.",
		New:      func() Step { return new(ssmGet) },
		Output:   ssmGetResult{},
		ReadOnly: true,
	}
}

// modes lists which of names, path and prefix are set.
func (s *ssmGet) modes() []string {
	var set []string
	if s.Names != nil {
		set = append(set, "names")
	}
	if s.Path != "" {
		set = append(set, "path")
	}
	if s.Prefix != "" {
		set = append(set, "prefix")
	}
	return set
}

func (s *ssmGet) Validate() error {
	switch m := s.modes(); len(m) {
	case 0:
		return errors.New("set one of names, path or prefix")
	case 1:
	default:
		return fmt.Errorf("set only one of names, path or prefix, not %s", strings.Join(m, " and "))
	}
	if s.Names != nil && len(s.Names) == 0 {
		return field("names").errorf("empty: list at least one name")
	}
	for i, n := range s.Names {
		if strings.TrimSpace(n) == "" {
			return field("names", strconv.Itoa(i)).errorf("item %d is empty", i)
		}
	}
	if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
		return field("path").errorf("%q must begin with /, as parameter paths do (/clients/acme); for names such as acme.DB_HOST use prefix", s.Path)
	}
	if s.Recursive && s.Path == "" {
		return field("recursive").errorf("applies only to path")
	}
	if s.StripPrefix && s.Names != nil {
		return field("strip_prefix").errorf("applies only to path or prefix, not names")
	}
	return nil
}

func (s *ssmGet) Lint() []engine.Warning {
	if len(s.modes()) > 1 {
		return []engine.Warning{{Field: s.modes()[1], Msg: "set only one of names, path or prefix"}}
	}
	if err := s.Validate(); err != nil && len(s.modes()) == 1 {
		return []engine.Warning{{Field: s.modes()[0], Msg: err.Error()}}
	}
	return nil
}

func (s *ssmGet) Plan(rt *engine.Runtime, _ Known) []string {
	decrypt := ""
	if s.Decrypt {
		decrypt = ", WithDecryption"
	}
	switch {
	case s.Path != "":
		line := "ssm:GetParametersByPath " + s.Path
		if s.Recursive {
			line += " Recursive"
		}
		return []string{line + " (paginated" + decrypt + ")"}
	case s.Prefix != "":
		if path, ok := hierarchy(s.Prefix); ok {
			return []string{"ssm:GetParametersByPath " + path + " Recursive (paginated" + decrypt + ")"}
		}
		lines := []string{"ssm:DescribeParameters Name BeginsWith " + s.Prefix + " (paginated)"}
		listed := "the names listed"
		if names := s.requiredNames(); len(names) > 0 {
			lines[0] += fmt.Sprintf(", beside ssm:GetParameters of the %s required (at once%s)", plural(len(names), "name"), decrypt)
			listed = "the names listed and not required"
		}
		return append(lines, fmt.Sprintf("ssm:GetParameters %s (batches of %d%s)", listed, ssmBatch, decrypt))
	}
	batches := (len(s.Names) + ssmBatch - 1) / ssmBatch
	return []string{fmt.Sprintf("ssm:GetParameters %s (%d batches of at most %d%s)",
		strings.Join(s.Names, ","), batches, ssmBatch, decrypt)}
}

// ssmBatch is GetParameters' limit on names a call; ssmParallel bounds the calls in flight.
const (
	ssmBatch    = 10
	ssmParallel = 8
)

func (s *ssmGet) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ssmClient(ctx)
	if err != nil {
		return nil, err
	}
	region := c.Options().Region
	if s.Names != nil {
		params, missing, err := getParameters(ctx, rt, c, dedupe(s.Names), s.Decrypt)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 && !s.Optional {
			return nil, fmt.Errorf("parameters not found in %s: %s (set optional: true to go on without them)",
				region, strings.Join(missing, ", "))
		}
		res := s.result(rt, params)
		res.Missing = missing
		return res, s.required(res, region)
	}
	var params []ssmtypes.Parameter
	where := ""
	if s.Path != "" {
		params, err = s.byPath(ctx, rt, c)
		where = "under path " + s.Path + " (one level; set recursive: true for deeper ones)"
		if s.Recursive {
			where = "under path " + s.Path + " (recursive)"
		}
	} else if path, ok := hierarchy(s.Prefix); ok {
		// Every name that begins with /a/b/ is under the path /a/b: GetParametersByPath reads
		// them with one permission that IAM can limit to the path, where DescribeParameters
		// would need the right to list every parameter in the account.
		params, err = (&ssmGet{Path: path, Recursive: true, Decrypt: s.Decrypt}).byPath(ctx, rt, c)
		where = "whose name begins with " + s.Prefix
	} else {
		params, err = s.byPrefix(ctx, rt, c)
		where = "whose name begins with " + s.Prefix
	}
	if err != nil {
		return nil, err
	}
	if len(params) == 0 && !s.Optional {
		return nil, fmt.Errorf("no parameters %s in %s (set optional: true if none is fine)", where, region)
	}
	res := s.result(rt, params)
	if err := s.required(res, region); err != nil {
		return nil, fmt.Errorf("%w (found %s %s)", err, plural(len(res.Values), "parameter"), where)
	}
	return res, nil
}

// required checks that res holds every key of Require.
func (s *ssmGet) required(res ssmGetResult, region string) error {
	var missing []string
	for _, k := range dedupe(s.Require) {
		if _, ok := res.Values[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("required parameters not found in %s: %s", region, strings.Join(missing, ", "))
}

// plural is "1 parameter", "2 parameters".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// result keys the parameters by name (stripped as asked), registering SecureString values as
// secrets first.
func (s *ssmGet) result(rt *engine.Runtime, params []ssmtypes.Parameter) ssmGetResult {
	res := ssmGetResult{Values: map[string]string{}, Versions: map[string]int{}, Types: map[string]string{}, Missing: []string{}}
	for _, p := range params {
		name, value := aws.ToString(p.Name), aws.ToString(p.Value)
		if p.Type == ssmtypes.ParameterTypeSecureString {
			rt.Secret(value)
		}
		key := name
		if s.StripPrefix {
			key = s.strip(name)
		}
		res.Values[key] = value
		res.Versions[key] = int(p.Version)
		res.Types[key] = string(p.Type)
	}
	return res
}

// strip removes the prefix, or the path and the / after it, from name.
func (s *ssmGet) strip(name string) string {
	if s.Prefix != "" {
		return strings.TrimPrefix(name, s.Prefix)
	}
	path := strings.TrimSuffix(s.Path, "/")
	return strings.TrimPrefix(name, path+"/")
}

// hierarchy returns the path a prefix such as /clients/acme/ names, and whether it is one.
func hierarchy(prefix string) (string, bool) {
	if len(prefix) > 2 && strings.HasPrefix(prefix, "/") && strings.HasSuffix(prefix, "/") {
		return strings.TrimSuffix(prefix, "/"), true
	}
	return "", false
}

func (s *ssmGet) byPath(ctx context.Context, rt *engine.Runtime, c *ssm.Client) ([]ssmtypes.Parameter, error) {
	pages := ssm.NewGetParametersByPathPaginator(c, &ssm.GetParametersByPathInput{
		Path:           aws.String(s.Path),
		Recursive:      aws.Bool(s.Recursive),
		WithDecryption: aws.Bool(s.Decrypt),
		MaxResults:     aws.Int32(10),
	})
	var params []ssmtypes.Parameter
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, awsFail(rt, err, "GetParametersByPath %s", s.Path)
		}
		params = append(params, page.Parameters...)
	}
	sortParameters(params)
	return params, nil
}

// byPrefix lists the names page by page (DescribeParameters) and reads each page's names
// (GetParameters) while the next page is listed, so that reading 1,000 settings takes about as
// many round trips as listing them: one per page, and one more.
func (s *ssmGet) byPrefix(ctx context.Context, rt *engine.Runtime, c *ssm.Client) ([]ssmtypes.Parameter, error) {
	pages := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{s.Prefix},
		}},
		MaxResults: aws.Int32(50),
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type read struct {
		params []ssmtypes.Parameter
		err    error
	}
	var reads []chan read
	seen := map[string]bool{}
	readNames := func(names []string) {
		done := make(chan read, 1)
		reads = append(reads, done)
		go func() {
			// A parameter deleted between the listing and the read is simply gone: no error.
			params, _, err := getParameters(ctx, rt, c, names, s.Decrypt)
			if err != nil {
				cancel()
			}
			done <- read{params, err}
		}()
	}
	// The names that must exist are read at once, beside the first page of the listing: a boot
	// whose settings are all required (as provision tags them) has them all after one round trip,
	// and the listing only finds any added since.
	if names := s.requiredNames(); len(names) > 0 {
		for _, n := range names {
			seen[n] = true
		}
		readNames(names)
	}
	var listErr error
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			listErr = awsFail(rt, err, "DescribeParameters Name BeginsWith %s", s.Prefix)
			break
		}
		var names []string
		for _, p := range page.Parameters {
			if n := aws.ToString(p.Name); !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			readNames(names)
		}
	}
	var params []ssmtypes.Parameter
	var readErr error
	for _, done := range reads {
		r := <-done
		if r.err != nil && (readErr == nil || errors.Is(readErr, context.Canceled)) {
			readErr = r.err
		}
		params = append(params, r.params...)
	}
	if readErr != nil && (listErr == nil || errors.Is(listErr, context.Canceled)) {
		return nil, readErr
	}
	if listErr != nil {
		return nil, listErr
	}
	sortParameters(params)
	return params, nil
}

// requiredNames lists the parameter names that require asks for under the prefix, each once.
func (s *ssmGet) requiredNames() []string {
	var names []string
	for _, k := range dedupe(s.Require) {
		name := k
		if s.StripPrefix {
			name = s.Prefix + k
		}
		if strings.HasPrefix(name, s.Prefix) {
			names = append(names, name)
		}
	}
	return names
}

func getParameters(ctx context.Context, rt *engine.Runtime, c *ssm.Client, names []string, decrypt bool) ([]ssmtypes.Parameter, []string, error) {
	params, invalid, err := GetParameters(ctx, c, names, decrypt)
	var ge *GetParametersError
	if errors.As(err, &ge) {
		return nil, nil, awsFail(rt, ge.Err, "GetParameters %s", strings.Join(ge.Names, ","))
	}
	return params, invalid, err
}

// GetParametersError is the failure of one of GetParameters' calls: the names it asked for, and
// why it failed.
type GetParametersError struct {
	Names []string
	Err   error
}

// Error says which call failed and why.
func (e *GetParametersError) Error() string {
	return "GetParameters " + strings.Join(e.Names, ",") + ": " + e.Err.Error()
}

// Unwrap returns the call's error.
func (e *GetParametersError) Unwrap() error { return e.Err }

// GetParameters reads names with SSM's GetParameters, ten names a call (the API's limit) and at
// most eight calls at a time. It returns the parameters sorted by name and the names that do not
// exist, sorted; the first error, a *GetParametersError, cancels the calls still to make.
func GetParameters(ctx context.Context, c *ssm.Client, names []string, decrypt bool) ([]ssmtypes.Parameter, []string, error) {
	calls := batches(names, ssmBatch)
	type answer struct {
		params  []ssmtypes.Parameter
		invalid []string
		err     error
	}
	answers := make([]answer, len(calls))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, ssmParallel)
	var wg sync.WaitGroup
	for i, batch := range calls {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			answers[i].err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: batch, WithDecryption: aws.Bool(decrypt)})
			if err != nil {
				answers[i].err = err
				cancel()
				return
			}
			answers[i] = answer{params: out.Parameters, invalid: out.InvalidParameters}
		}()
	}
	wg.Wait()
	var params []ssmtypes.Parameter
	var invalid []string
	failed := -1
	for i, a := range answers {
		// Report the error that caused the cancellation, not the cancellations it caused.
		if a.err != nil && (failed < 0 || errors.Is(answers[failed].err, context.Canceled) && !errors.Is(a.err, context.Canceled)) {
			failed = i
		}
		params = append(params, a.params...)
		invalid = append(invalid, a.invalid...)
	}
	if failed >= 0 {
		return nil, nil, &GetParametersError{Names: calls[failed], Err: answers[failed].err}
	}
	sortParameters(params)
	sort.Strings(invalid)
	return params, invalid, nil
}

func sortParameters(ps []ssmtypes.Parameter) {
	sort.Slice(ps, func(i, j int) bool { return aws.ToString(ps[i].Name) < aws.ToString(ps[j].Name) })
}

// dedupe returns names without repeats, in their first order.
func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

var (
	_ Step      = (*ssmPut)(nil)
	_ Validator = (*ssmPut)(nil)
	_ Linter    = (*ssmPut)(nil)
	_ Planner   = (*ssmPut)(nil)
	_ Step      = (*ssmGet)(nil)
	_ Validator = (*ssmGet)(nil)
	_ Linter    = (*ssmGet)(nil)
	_ Planner   = (*ssmGet)(nil)
)
