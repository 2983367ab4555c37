package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/flow-infra/flow/engine"
)

func init() { Register(new(imdsGet)) }

// imdsGet reads this instance's metadata.
type imdsGet struct {
	Tag      string   `flow:"tag" doc:"An instance tag's key to read into the output tag; a missing tag is an error."`
	UserData bool     `flow:"user_data" default:"false" doc:"Also read the user data into the output user_data."`
	Tags     []string `flow:"tags" doc:"Tag keys to read into the output tags, at once with the identity (no listing, no second round trip); a key the instance does not have is left out, e.g. [flow:zone, flow:zone-id]."`
	Lists    []string `flow:"lists" doc:"Keys of lists that ec2.run's list_tags spread over numbered tags (KEY, KEY-2, ... KEY-5): all those tags are read by name, at once with the identity, and each list's items come back in the output lists, e.g. [flow:required]."`
	AllTags  bool     `flow:"all_tags" default:"false" doc:"With tag, tags or lists: also read every other tag into the output tags (the listing, then each value: one more round trip). With none of them, every tag is read."`
}

// imdsInstance is what imds.get returns.
type imdsInstance struct {
	InstanceID       string              `flow:"instance_id" doc:"This instance's id (meta-data/instance-id)."`
	PrivateIP        string              `flow:"private_ip" doc:"Its primary private IPv4 address (meta-data/local-ipv4)."`
	Region           string              `flow:"region" doc:"Its region (meta-data/placement/region)."`
	AvailabilityZone string              `flow:"availability_zone" doc:"Its availability zone (meta-data/placement/availability-zone)."`
	InstanceType     string              `flow:"instance_type" doc:"Its instance type (meta-data/instance-type)."`
	AMIID            string              `flow:"ami_id" doc:"The AMI it was launched from (meta-data/ami-id)."`
	Tags             map[string]string   `flow:"tags" doc:"Every instance tag (meta-data/tags/instance), or with the inputs tag or tags (and not all_tags) only those the instance has; empty when the instance does not allow tags in its metadata."`
	Tag              string              `flow:"tag" doc:"The value of the tag named by the input tag; empty without it."`
	UserData         string              `flow:"user_data" doc:"The user data (with the input user_data); empty when the instance has none."`
	Lists            map[string][]string `flow:"lists" doc:"Each list the input lists names, KEY -> its items in order; an empty list when the instance has none of its tags."`
}

func (*imdsGet) Info() Info {
	return Info{
		Name: "imds.get",
		Doc: "Read this EC2 instance's metadata through IMDSv2 (a session token, never IMDSv1): its id, private IPv4 address, region, " +
			"availability zone, instance type, AMI, every instance tag (when the instance allows tags in its metadata: ec2.run's " +
			"metadata_tags) and, on request, its user data. Read-only, and no AWS credentials or API calls: one token, then every " +
			"path at once. Throttling (429) and 5xx answers are retried with backoff. The endpoint is the SDK's: " +
			"AWS_EC2_METADATA_SERVICE_ENDPOINT, or AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (IPv4 or IPv6), or the same settings " +
			"in the shared config file, else http://169.254.169.254.",
		New:    func() Step { return new(imdsGet) },
		Output: imdsInstance{},
	}
}

// imdsServerError finds a 5xx status in the text of the SDK's error.
var imdsServerError = regexp.MustCompile(`StatusCode: 5[0-9][0-9]\b`)

// imdsTagKey is what a tag key may be to appear in instance metadata.
var imdsTagKey = regexp.MustCompile(`^[A-Za-z0-9+\-=.,_:@]+$`)

func (s *imdsGet) Validate() error {
	for i, k := range s.Tags {
		if k == "" {
			return field("tags", strconv.Itoa(i)).errorf("item %d is empty", i)
		}
		if !imdsReadable(k) {
			return field("tags", strconv.Itoa(i)).errorf("%s", imdsUnreadable(k))
		}
	}
	for i, k := range s.Lists {
		if k == "" {
			return field("lists", strconv.Itoa(i)).errorf("item %d is empty", i)
		}
		if !imdsReadable(k) {
			return field("lists", strconv.Itoa(i)).errorf("%s", imdsUnreadable(k))
		}
	}
	if ws := s.Lint(); len(ws) > 0 {
		return field(ws[0].Field).errorf("%s", ws[0].Msg)
	}
	return nil
}

// Lint checks the tag key against what instance metadata can show.
func (s *imdsGet) Lint() []engine.Warning {
	if s.Tag != "" && !imdsReadable(s.Tag) {
		return []engine.Warning{{Field: "tag", Msg: imdsUnreadable(s.Tag)}}
	}
	return nil
}

// imdsReadable reports whether a tag key can appear in instance metadata.
func imdsReadable(key string) bool {
	return imdsTagKey.MatchString(key) && key != "." && key != ".."
}

func imdsUnreadable(key string) string {
	return fmt.Sprintf("%q cannot be read from instance metadata: a tag key there is letters, digits and + - = . , _ : @ only", key)
}

func (s *imdsGet) Plan(rt *engine.Runtime, _ Known) []string {
	paths := []string{"instance-id", "local-ipv4", "placement/region", "placement/availability-zone", "instance-type", "ami-id"}
	then := ""
	if s.allTags() {
		paths = append(paths, "tags/instance")
		then = ", then tags/instance/KEY for each tag"
	}
	for _, k := range s.tagKeys() {
		paths = append(paths, "tags/instance/"+k)
	}
	lines := []string{
		"imds:PUT /latest/api/token (IMDSv2 session token)",
		"imds:GET /latest/meta-data/{" + strings.Join(paths, ",") + "} (at once)" + then,
	}
	if s.UserData {
		lines = append(lines, "imds:GET /latest/user-data")
	}
	return lines
}

// allTags reports whether every tag is read: without tag, tags and lists, or with all_tags. Only
// what is asked for is read: a boot that needs a few tags does not pay a round trip for the others.
func (s *imdsGet) allTags() bool { return s.Tag == "" && s.Tags == nil && s.Lists == nil || s.AllTags }

// tagKeys lists the tags read in the first round: tag, then tags, then the lists' tags, each once.
func (s *imdsGet) tagKeys() []string {
	var keys []string
	seen := map[string]bool{}
	all := append([]string{s.Tag}, s.Tags...)
	for _, l := range s.Lists {
		all = append(all, listTagKeys(l)...)
	}
	for _, k := range all {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// imdsMaxParallel bounds the metadata reads in flight, well below what IMDS throttles.
const imdsMaxParallel = 16

func (s *imdsGet) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	client, err := imdsClient(ctx)
	if err != nil {
		return nil, err
	}
	out := imdsInstance{Tags: map[string]string{}, Lists: map[string][]string{}}
	var tagKeys string
	var tagsOff bool
	reads := []imdsRead{
		{path: "instance-id", into: &out.InstanceID},
		{path: "local-ipv4", into: &out.PrivateIP},
		{path: "placement/region", into: &out.Region},
		{path: "placement/availability-zone", into: &out.AvailabilityZone},
		{path: "instance-type", into: &out.InstanceType},
		{path: "ami-id", into: &out.AMIID},
	}
	if s.allTags() {
		reads = append(reads, imdsRead{path: "tags/instance", into: &tagKeys, missing: &tagsOff})
	}
	named := s.tagKeys()
	namedValues := make([]string, len(named))
	namedMissing := make([]bool, len(named))
	for i, k := range named {
		reads = append(reads, imdsRead{path: "tags/instance/" + k, into: &namedValues[i], missing: &namedMissing[i]})
	}
	if s.UserData {
		reads = append(reads, imdsRead{userData: true, into: &out.UserData, missing: new(bool)})
	}
	if err := imdsReadAll(ctx, rt, client, reads); err != nil {
		return nil, err
	}
	if a, err := awsFrom(ctx); err == nil {
		a.rememberInstance(out.InstanceID) // for once records: no second read
	}
	for i, k := range named {
		if namedMissing[i] {
			if k == s.Tag {
				return nil, fmt.Errorf("instance %s has no tag %s in its metadata (is InstanceMetadataTags enabled?)", out.InstanceID, s.Tag)
			}
			continue
		}
		out.Tags[k] = namedValues[i]
		if k == s.Tag {
			out.Tag = namedValues[i]
		}
	}
	for _, l := range s.Lists {
		out.Lists[l] = gatherList(l, out.Tags)
	}
	if !s.allTags() {
		return out, nil
	}
	// One key a line; keys in metadata have no spaces, so Fields also drops a trailing newline.
	keys := strings.Fields(tagKeys)
	if tagsOff || len(keys) == 0 {
		return out, nil
	}
	values := make([]string, len(keys))
	reads = reads[:0]
	for i, k := range keys {
		if v, ok := out.Tags[k]; ok {
			values[i] = v
			continue
		}
		// A tag deleted between the listing and this read is left out.
		reads = append(reads, imdsRead{path: "tags/instance/" + k, into: &values[i], missing: new(bool)})
	}
	if err := imdsReadAll(ctx, rt, client, reads); err != nil {
		return nil, err
	}
	for i, k := range keys {
		out.Tags[k] = values[i]
	}
	for _, r := range reads {
		if *r.missing {
			delete(out.Tags, strings.TrimPrefix(r.path, "tags/instance/"))
		}
	}
	return out, nil
}

// imdsRead is one read of instance metadata: a meta-data path, or the user data.
type imdsRead struct {
	path     string // under /latest/meta-data/
	userData bool   // /latest/user-data instead
	into     *string
	// missing, when set, makes a 404 an answer: *missing is set to true. Without it a 404 fails.
	missing *bool
}

func (r imdsRead) where() string {
	if r.userData {
		return "/latest/user-data"
	}
	return "/latest/meta-data/" + r.path
}

// imdsReadAll makes the reads at once, at most imdsMaxParallel in flight. The client's token
// provider fetches one session token for all of them. A read that fails does not stop the
// others (they are quick, and the error named is then always that of the earliest read in the
// list), except when the session token could not be had: every read would wait its turn to
// try again, so the others are cancelled.
func imdsReadAll(ctx context.Context, rt *engine.Runtime, client *imds.Client, reads []imdsRead) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(reads))
	var tokenErr error
	var tokenOnce sync.Once
	slots := make(chan struct{}, imdsMaxParallel)
	var wg sync.WaitGroup
	for i, r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-rctx.Done():
				errs[i] = rctx.Err()
				return
			}
			defer func() { <-slots }()
			errs[i] = imdsReadOne(rctx, rt, client, r)
			if errs[i] != nil && imdsTokenFailure(errs[i]) {
				tokenOnce.Do(func() {
					tokenErr = errs[i]
					cancel()
				})
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if tokenErr != nil {
		return tokenErr
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// imdsTokenFailure reports an error of getting the session token. The SDK hides the token
// request's own error behind a type with no Unwrap; its text says what it was.
func imdsTokenFailure(err error) bool {
	return strings.Contains(err.Error(), "failed to get API token")
}

func imdsReadOne(ctx context.Context, rt *engine.Runtime, client *imds.Client, r imdsRead) error {
	var body io.ReadCloser
	var err error
	if r.userData {
		var out *imds.GetUserDataOutput
		if out, err = client.GetUserData(ctx, &imds.GetUserDataInput{}); err == nil {
			body = out.Content
		}
	} else {
		var out *imds.GetMetadataOutput
		if out, err = client.GetMetadata(ctx, &imds.GetMetadataInput{Path: r.path}); err == nil {
			body = out.Content
		}
	}
	if err != nil {
		if imdsStatus(err) == http.StatusNotFound && r.missing != nil {
			*r.missing = true
			return nil
		}
		explained := imdsError(r.where(), err)
		return awsErrorf(rt, explained, "%s", explained)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.where(), err)
	}
	*r.into = string(data)
	return nil
}

// imdsStatus returns the HTTP status of instance metadata's answer in err; 0 when there was none.
func imdsStatus(err error) int {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	return re.HTTPStatusCode()
}

// imdsErrorText returns the body of instance metadata's answer in err when it is plain text:
// the emulator explains itself in one; IMDS sends an HTML page, which says nothing more than
// the status.
func imdsErrorText(err error) string {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Body == nil ||
		!strings.HasPrefix(re.Response.Header.Get("Content-Type"), "text/plain") {
		return ""
	}
	data, _ := io.ReadAll(io.LimitReader(re.Response.Body, 4096))
	return strings.TrimSpace(string(data))
}

// imdsError explains a failed read of path (/latest/...): what instance metadata answered and
// what that means, or why it could not be asked. Callers say what they were reading for.
func imdsError(path string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if imdsTokenFailure(err) {
		// The SDK keeps the token request's answer only in the text of its error.
		switch text := err.Error(); {
		case strings.Contains(text, "StatusCode: 429"):
			return fmt.Errorf("no IMDSv2 session token (PUT /latest/api/token): instance metadata is throttling "+
				"this instance (429 Too Many Requests), and still did after every retry: %w", err)
		case imdsServerError.MatchString(text):
			return fmt.Errorf("no IMDSv2 session token (PUT /latest/api/token): instance metadata failed (5xx), "+
				"and still did after every retry: %w", err)
		}
		return fmt.Errorf("no IMDSv2 session token (PUT /latest/api/token): is this an EC2 instance whose metadata "+
			"endpoint is enabled, within its hop limit? (AWS_EC2_METADATA_SERVICE_ENDPOINT names another endpoint): %w", err)
	}
	status := imdsStatus(err)
	if status == 0 {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	msg := fmt.Sprintf("instance metadata answered %d %s to GET %s", status, http.StatusText(status), path)
	switch text := imdsErrorText(err); {
	case status == http.StatusTooManyRequests:
		msg += ": instance metadata is throttling this instance, and still did after every retry"
	case text != "":
		msg += ": " + text
	case status == http.StatusForbidden:
		msg += ": the instance's metadata endpoint is disabled (MetadataOptions.HttpEndpoint)"
	}
	return &awsCallError{msg: msg, err: err}
}

var (
	_ Step      = (*imdsGet)(nil)
	_ Validator = (*imdsGet)(nil)
	_ Planner   = (*imdsGet)(nil)
	_ Linter    = (*imdsGet)(nil)
)
