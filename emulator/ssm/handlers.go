package ssm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// The request and answer shapes of the operations, as botocore's model
// (data/ssm/2014-11-06/service-2.json) names them. Optional members are pointers, so that an absent
// member is told from a zero one.

type putParameterInput struct {
	Name           *string
	Description    *string
	Value          *string
	Type           *string
	KeyId          *string
	Overwrite      *bool
	AllowedPattern *string
	Tags           []tagInput
	Tier           *string
	Policies       *string
	DataType       *string
}

type tagInput struct {
	Key   *string
	Value *string
}

type putParameterOutput struct {
	Version int64
	Tier    string
}

type getParameterInput struct {
	Name           *string
	WithDecryption *bool
}

type getParameterOutput struct {
	Parameter parameterOutput
}

type getParametersInput struct {
	Names          []string
	WithDecryption *bool
}

type getParametersOutput struct {
	Parameters        []parameterOutput
	InvalidParameters []string
}

type getParametersByPathInput struct {
	Path             *string
	Recursive        *bool
	ParameterFilters []parameterStringFilter
	WithDecryption   *bool
	MaxResults       *int
	NextToken        *string
}

type getParametersByPathOutput struct {
	Parameters []parameterOutput
	NextToken  string `json:",omitempty"`
}

type parameterStringFilter struct {
	Key    *string
	Option *string
	Values []string
}

type deleteParameterInput struct {
	Name *string
}

type deleteParametersInput struct {
	Names []string
}

type deleteParametersOutput struct {
	DeletedParameters []string
	InvalidParameters []string
}

type describeParametersInput struct {
	Filters          []parametersFilter
	ParameterFilters []parameterStringFilter
	MaxResults       *int
	NextToken        *string
	Shared           *bool
}

type parametersFilter struct {
	Key    *string
	Values []string
}

type describeParametersOutput struct {
	Parameters []parameterMetadataOutput
	NextToken  string `json:",omitempty"`
}

type parameterOutput struct {
	Name             string
	Type             string
	Value            string
	Version          int64
	Selector         string `json:",omitempty"`
	LastModifiedDate epochSeconds
	ARN              string
	DataType         string
}

type parameterMetadataOutput struct {
	Name             string
	ARN              string
	Type             string
	KeyId            string `json:",omitempty"`
	LastModifiedDate epochSeconds
	LastModifiedUser string
	Description      string `json:",omitempty"`
	AllowedPattern   string `json:",omitempty"`
	Version          int64
	Tier             string
	Policies         []struct{}
	DataType         string
}

// epochSeconds is a timestamp as the JSON protocols write it: seconds since the epoch, with
// milliseconds.
type epochSeconds time.Time

// MarshalJSON writes the timestamp as a number such as 1700000000.123.
func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return fmt.Appendf(nil, "%d.%03d", ms/1000, ms%1000), nil
}

// decode reads the body of a request for the operation op into in, then holds it to the API
// model's constraints on op's input (see validate). A body that is not a JSON object of the
// operation's shape is a SerializationException; one that breaks the model's constraints, the
// ValidationException that lists every violation, as AWS answers both before the operation runs.
func decode(op string, body []byte, in any) error {
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		if err := json.Unmarshal(trimmed, in); err != nil {
			return newError(codeSerialization, "Could not parse the request body: %v", err)
		}
	}
	if err := validate(op, body); err != nil {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, r *http.Request, out any) {
	data, err := json.Marshal(out)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(data)
}

// typeEnum is the model's ParameterType, in the order its validation message lists it.
func typeEnum() []string { return []string{typeSecureString, typeStringList, typeString} }

// tierEnum is the model's ParameterTier.
func tierEnum() []string { return []string{tierStandard, tierAdvanced, tierIntelligent} }

// The bounds on the tags PutParameter gives a new parameter. The model's: a list of at most 1000,
// a key of 1 to 128 characters and a value of at most 256, both of tagPattern. AWS's own: at most
// 50 tags a resource, and no key beginning with the reserved aws: (in any case). AWS does not
// document its words for those two; the emulator answers them as the model's, with a
// ValidationException.
const (
	maxTagList     = 1000
	maxTagKey      = 128
	maxTagValue    = 256
	maxTags        = 50
	tagPattern     = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`
	reservedPrefix = "aws:"
)

// checkTags returns the tags of a PutParameter by key (of a key given twice the last value
// counts), or the ValidationException for a key AWS reserves or for more than 50 tags. The
// model's bounds on each tag are validate's.
func checkTags(in []tagInput) (map[string]string, *wire.Error) {
	if len(in) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(in))
	for _, t := range in {
		key := *t.Key
		if strings.HasPrefix(strings.ToLower(key), reservedPrefix) {
			return nil, newError(codeValidation, "Invalid tag key %s: tag keys beginning with %q are reserved for AWS's use.", key, reservedPrefix)
		}
		tags[key] = *t.Value
	}
	if len(tags) > maxTags {
		return nil, newError(codeValidation, "A parameter can have at most %d tags; the request gives it %d.", maxTags, len(tags))
	}
	return tags, nil
}

// pageSize returns MaxResults, or def when absent; validate has held it to the model's bounds.
func pageSize(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

// A NextToken is the key the previous page ended with, encoded so that it reads as opaque.

func encodeToken(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeToken(token *string) (string, *wire.Error) {
	if token == nil || *token == "" {
		return "", nil
	}
	key, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || !strings.HasPrefix(string(key), "/") {
		return "", newError(codeInvalidNextToken, "The specified token isn't valid.")
	}
	return string(key), nil
}

func outputOf(p parameterValue) parameterOutput {
	return parameterOutput{
		Name: p.Name, Type: p.Type, Value: p.Value, Version: p.Version, Selector: p.Selector,
		LastModifiedDate: epochSeconds(p.Modified), ARN: p.ARN, DataType: p.DataType,
	}
}

func outputsOf(ps []parameterValue) []parameterOutput {
	out := make([]parameterOutput, len(ps))
	for i, p := range ps {
		out[i] = outputOf(p)
	}
	return out
}

func (s *Service) putParameter(ctx context.Context, body []byte) (any, error) {
	var in putParameterInput
	if err := decode("PutParameter", body, &in); err != nil {
		return nil, err
	}
	if in.Policies != nil {
		return nil, newError(codeValidation, "Parameter policies are not supported by this emulator of Parameter Store.")
	}
	tags, terr := checkTags(in.Tags)
	if terr != nil {
		return nil, terr
	}
	req := putRequest{
		Name: strings.TrimSpace(*in.Name), Value: *in.Value, Type: deref(in.Type), KeyID: deref(in.KeyId),
		Description: in.Description, AllowedPattern: in.AllowedPattern, Overwrite: deref(in.Overwrite),
		Tags: tags, Tier: deref(in.Tier), DataType: deref(in.DataType),
	}
	version, tier, err := s.backend.put(ctx, req)
	if err != nil {
		return nil, err
	}
	return putParameterOutput{Version: version, Tier: tier}, nil
}

func (s *Service) getParameter(ctx context.Context, body []byte) (any, error) {
	var in getParameterInput
	if err := decode("GetParameter", body, &in); err != nil {
		return nil, err
	}
	p, err := s.backend.get(ctx, *in.Name, deref(in.WithDecryption))
	if err != nil {
		return nil, err
	}
	return getParameterOutput{Parameter: outputOf(p)}, nil
}

func (s *Service) getParameters(ctx context.Context, body []byte) (any, error) {
	var in getParametersInput
	if err := decode("GetParameters", body, &in); err != nil {
		return nil, err
	}
	params, invalid, err := s.backend.getMany(ctx, in.Names, deref(in.WithDecryption))
	if err != nil {
		return nil, err
	}
	return getParametersOutput{Parameters: outputsOf(params), InvalidParameters: nonNil(invalid)}, nil
}

func (s *Service) getParametersByPath(ctx context.Context, body []byte) (any, error) {
	var in getParametersByPathInput
	if err := decode("GetParametersByPath", body, &in); err != nil {
		return nil, err
	}
	if err := checkPath(*in.Path); err != nil {
		return nil, err
	}
	max := pageSize(in.MaxResults, 10)
	filters, err := checkFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	page, next, berr := s.backend.byPath(ctx, pathQuery{
		Path: normPath(*in.Path), Recursive: deref(in.Recursive), Filters: filters, Max: max, After: after,
		Decrypt: deref(in.WithDecryption),
	})
	if berr != nil {
		return nil, berr
	}
	return getParametersByPathOutput{Parameters: outputsOf(page), NextToken: encodeToken(next)}, nil
}

func (s *Service) deleteParameter(ctx context.Context, body []byte) (any, error) {
	var in deleteParameterInput
	if err := decode("DeleteParameter", body, &in); err != nil {
		return nil, err
	}
	if err := s.backend.delete(ctx, strings.TrimSpace(*in.Name)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) deleteParameters(ctx context.Context, body []byte) (any, error) {
	var in deleteParametersInput
	if err := decode("DeleteParameters", body, &in); err != nil {
		return nil, err
	}
	deleted, invalid, err := s.backend.deleteMany(ctx, in.Names)
	if err != nil {
		return nil, err
	}
	return deleteParametersOutput{DeletedParameters: nonNil(deleted), InvalidParameters: nonNil(invalid)}, nil
}

func (s *Service) describeParameters(ctx context.Context, body []byte) (any, error) {
	var in describeParametersInput
	if err := decode("DescribeParameters", body, &in); err != nil {
		return nil, err
	}
	max := pageSize(in.MaxResults, 10)
	if in.Filters != nil && in.ParameterFilters != nil {
		return nil, newError(codeValidation, "You can use either Filters or ParameterFilters in a single request.")
	}
	filters, err := checkFilters(in.ParameterFilters, false)
	if err != nil {
		return nil, err
	}
	legacy := legacyFilters(in.Filters)
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := describeParametersOutput{Parameters: []parameterMetadataOutput{}}
	if deref(in.Shared) {
		return out, nil // no other account shares parameters with this one
	}
	page, next, berr := s.backend.describe(ctx, describeQuery{Filters: filters, Legacy: legacy, Max: max, After: after})
	if berr != nil {
		return nil, berr
	}
	for _, p := range page {
		out.Parameters = append(out.Parameters, parameterMetadataOutput{
			Name: p.Name, ARN: p.ARN, Type: p.Type, KeyId: p.KeyID, LastModifiedDate: epochSeconds(p.Modified),
			LastModifiedUser: s.backend.caller(), Description: p.Description, AllowedPattern: p.AllowedPattern, Version: p.Version, Tier: p.Tier,
			Policies: []struct{}{}, DataType: p.DataType,
		})
	}
	out.NextToken = encodeToken(next)
	return out, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
