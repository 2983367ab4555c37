package steps

// The ssm steps a client's life needs beyond reading and writing settings: listing a client's
// parameters by name only, and deleting them all when the client is retired.

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/flow-infra/flow/engine"
)

func init() {
	Register(new(ssmList))
	Register(new(ssmDelete))
}

// clientPrefix checks a prefix that names one client's parameters: it must end with . or / (so
// acme. cannot reach acme2.X) and end with client. or /client/ (so /clients/ cannot reach every
// client).
func clientPrefix(prefix, client string) error {
	switch {
	case strings.TrimLeft(prefix, "/.") == "":
		return fmt.Errorf("prefix %q names no client's parameters: write acme. or /clients/acme/", prefix)
	case !strings.HasSuffix(prefix, ".") && !strings.HasSuffix(prefix, "/"):
		return fmt.Errorf("prefix %q does not end with . or /, so it would also match other clients' names (%s2.X, %s-b.X): write %s. or %s/",
			prefix, prefix, prefix, prefix, prefix)
	case strings.HasPrefix(prefix, "/") && strings.HasSuffix(prefix, "."):
		return fmt.Errorf("prefix %q begins like a hierarchy (/) and ends like a plain prefix (.): write a hierarchy (/clients/acme/) or a plain prefix (acme.)", prefix)
	}
	if !strings.HasSuffix(prefix, "/"+client+"/") && prefix != client+"." && !strings.HasSuffix(prefix, "."+client+".") {
		return fmt.Errorf("prefix %q is not client %s's own: it must end with %s. or /%s/, or it could reach other clients' parameters", prefix, client, client, client)
	}
	return nil
}

// parameterNames lists the parameters under prefix the way ssm.get reads them: a hierarchy
// (/clients/acme/) with GetParametersByPath, recursive, values not decrypted; a plain prefix
// (acme.) with DescribeParameters Name BeginsWith. It returns names sorted, with their types.
func parameterNames(ctx context.Context, rt *engine.Runtime, c *ssm.Client, prefix string) ([]string, map[string]string, error) {
	var names []string
	types := map[string]string{}
	if path, ok := hierarchy(prefix); ok {
		pages := ssm.NewGetParametersByPathPaginator(c, &ssm.GetParametersByPathInput{
			Path: aws.String(path), Recursive: aws.Bool(true), WithDecryption: aws.Bool(false), MaxResults: aws.Int32(10),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, awsFail(rt, err, "GetParametersByPath %s", path)
			}
			for _, p := range page.Parameters {
				names = append(names, aws.ToString(p.Name))
				types[aws.ToString(p.Name)] = string(p.Type)
			}
		}
	} else {
		pages := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{prefix}}},
			MaxResults:       aws.Int32(50),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, awsFail(rt, err, "DescribeParameters Name BeginsWith %s", prefix)
			}
			for _, p := range page.Parameters {
				names = append(names, aws.ToString(p.Name))
				types[aws.ToString(p.Name)] = string(p.Type)
			}
		}
	}
	names = dedupe(names)
	sort.Strings(names)
	return names, types, nil
}

// listPlan is the call parameterNames makes, for a plan.
func listPlan(prefix string) string {
	if path, ok := hierarchy(prefix); ok {
		return "ssm:GetParametersByPath " + path + " Recursive (paginated, values not decrypted)"
	}
	return "ssm:DescribeParameters Name BeginsWith " + prefix + " (paginated)"
}

// ---- ssm.list

// ssmList lists the parameters under a prefix, by name, reading no value.
type ssmList struct {
	Prefix string `flow:"prefix,required" doc:"The names' prefix: acme. or a hierarchy such as /clients/acme/ (read with GetParametersByPath)."`
}

type ssmListed struct {
	Names []string          `flow:"names" doc:"The full names found, sorted."`
	Keys  []string          `flow:"keys" doc:"The names without the prefix (DB_HOST), in the same order."`
	Types map[string]string `flow:"types" doc:"Each key's type: String, StringList or SecureString."`
	Count int               `flow:"count" doc:"How many were found."`
}

func (*ssmList) Info() Info {
	return Info{
		Name: "ssm.list",
		Doc: "List the parameters whose names begin with a prefix, found as ssm.get finds them (a hierarchy with " +
			"GetParametersByPath, recursive; a plain prefix with DescribeParameters), read-only. It returns names and " +
			"types, never a value: nothing is decrypted, so it needs no kms:Decrypt and has no secret to mask.",
		New:      func() Step { return new(ssmList) },
		Output:   ssmListed{},
		ReadOnly: true,
	}
}

func (s *ssmList) Plan(rt *engine.Runtime, _ Known) []string { return []string{listPlan(s.Prefix)} }

func (s *ssmList) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ssmClient(ctx)
	if err != nil {
		return nil, err
	}
	names, types, err := parameterNames(ctx, rt, c, s.Prefix)
	if err != nil {
		return nil, err
	}
	res := ssmListed{Names: names, Keys: make([]string, len(names)), Types: map[string]string{}, Count: len(names)}
	for i, n := range names {
		res.Keys[i] = strings.TrimPrefix(n, s.Prefix)
		res.Types[res.Keys[i]] = types[n]
	}
	return res, nil
}

// ---- ssm.delete

// ssmDelete deletes every parameter under one client's prefix.
type ssmDelete struct {
	Prefix string `flow:"prefix,required" doc:"The client's prefix, ending with . or /: acme. or /clients/acme/. Every parameter whose name begins with it is deleted."`
	Client string `flow:"client,required" doc:"The client whose parameters these are: the prefix must end with <client>. or /<client>/, so that it reaches no other client's."`
}

type ssmDeleted struct {
	Names   []string `flow:"names" doc:"The parameters deleted, sorted; empty when there were none."`
	Changed bool     `flow:"changed" doc:"Whether any parameter was deleted."`
}

func (*ssmDelete) Info() Info {
	return Info{
		Name: "ssm.delete",
		Doc: "Delete every parameter under one client's prefix, found as ssm.get finds them (a hierarchy such as " +
			"/clients/acme/ with GetParametersByPath, recursive; a plain prefix such as acme. with DescribeParameters), " +
			"then DeleteParameters, 10 names a call. Idempotent: nothing found is nothing to do, and a parameter " +
			"deleted meanwhile is not an error. A prefix that could reach another client's parameters is refused " +
			"before any call: it must be the client's own, ending with <client>. or /<client>/ (acme would match " +
			"acme2.X, and /clients/ every client).",
		New:    func() Step { return new(ssmDelete) },
		Output: ssmDeleted{},
	}
}

var clientID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (s *ssmDelete) Validate() error {
	if !clientID.MatchString(s.Client) {
		return fmt.Errorf("client %q is not a client id: letters, digits, - and _", s.Client)
	}
	return clientPrefix(s.Prefix, s.Client)
}

func (s *ssmDelete) Lint() []engine.Warning {
	if err := s.Validate(); err != nil && s.Prefix != "" {
		return []engine.Warning{{Field: "prefix", Msg: err.Error()}}
	}
	return nil
}

func (s *ssmDelete) Plan(rt *engine.Runtime, _ Known) []string {
	return []string{listPlan(s.Prefix), "ssm:DeleteParameters every parameter whose name begins with " + s.Prefix + " (10 a call)"}
}

// Preview lists the parameters as Run does and names those it would delete, in the batches Run
// would send. It reads names only: no value is decrypted.
func (s *ssmDelete) Preview(ctx context.Context, rt *engine.Runtime) ([]string, error) {
	c, err := ssmClient(ctx)
	if err != nil {
		return nil, err
	}
	names, _, err := parameterNames(ctx, rt, c, s.Prefix)
	if err != nil {
		return nil, err
	}
	lines := []string{listPlan(s.Prefix)}
	if len(names) == 0 {
		lines = append(lines, "nothing to delete: no parameter's name begins with "+s.Prefix)
	}
	for _, batch := range batches(names, ssmBatch) {
		lines = append(lines, "ssm:DeleteParameters "+strings.Join(batch, " "))
	}
	return lines, nil
}

func (s *ssmDelete) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ssmClient(ctx)
	if err != nil {
		return nil, err
	}
	names, _, err := parameterNames(ctx, rt, c, s.Prefix)
	if err != nil {
		return nil, err
	}
	res := ssmDeleted{Names: []string{}}
	for _, batch := range batches(names, ssmBatch) {
		out, err := c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch})
		if err != nil {
			return nil, awsFail(rt, err, "DeleteParameters %s", strings.Join(batch, ","))
		}
		res.Names = append(res.Names, out.DeletedParameters...)
	}
	sort.Strings(res.Names)
	res.Changed = len(res.Names) > 0
	return res, nil
}

var (
	_ Step      = (*ssmList)(nil)
	_ Planner   = (*ssmList)(nil)
	_ Step      = (*ssmDelete)(nil)
	_ Validator = (*ssmDelete)(nil)
	_ Linter    = (*ssmDelete)(nil)
	_ Planner   = (*ssmDelete)(nil)
	_ Previewer = (*ssmDelete)(nil)
)
