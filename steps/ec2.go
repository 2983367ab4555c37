package steps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/flow-infra/flow/engine"
)

func init() {
	Register(new(ec2Run))
	Register(new(ec2Describe))
}

// ec2Run launches one instance, idempotently.
type ec2Run struct {
	Image           string            `flow:"image,required" doc:"The AMI: an id (ami-...) or resolve:ssm:NAME (EC2 reads the id from that SSM parameter), passed to RunInstances as it is."`
	InstanceType    string            `flow:"instance_type" default:"t3.micro" doc:"The instance type."`
	Subnet          string            `flow:"subnet" doc:"The subnet id (subnet-...); default: the default subnet of the default VPC."`
	SecurityGroups  []string          `flow:"security_groups" doc:"Security group ids (sg-...); default: the VPC's default group."`
	KeyName         string            `flow:"key_name" doc:"The EC2 key pair's name; default: none."`
	InstanceProfile string            `flow:"instance_profile" doc:"The IAM instance profile: an ARN (arn:...) or a name."`
	Tags            map[string]string `flow:"tags" doc:"Tags of the instance, set at launch (e.g. ClientId: acme)."`
	ConfigTags      map[string]string `flow:"config_tags" doc:"Tags that configure the instance rather than identify it (what its boot reads): set at launch with tags, and on an instance found by its client token written again (CreateTags) where they differ, so a changed value changes the tag, not the instance. Not part of the derived client token."`
	ListTags        map[string]string `flow:"list_tags" doc:"Config tags whose value is a list, its items joined by commas, that may be longer than one tag holds (e.g. the names of settings): spread over the numbered tags KEY, KEY-2, ... KEY-5, at most 256 characters each and cut only between items, 1280 characters in all (imds.get's lists reads them back, at once). An empty item is an error. Numbered tags a list does not need are left out at launch and emptied on an instance found by its client token, so a shorter list leaves no stale items. A secret list's tags are secret too. Like config_tags, not part of the derived client token."`
	MetadataTags    bool              `flow:"metadata_tags" default:"true" doc:"Let instance metadata show the instance's tags (InstanceMetadataTags=enabled), so imds.get reads them on the instance. IMDSv2 is required either way."`
	UserData        string            `flow:"user_data" doc:"The user data as plain text (flow base64-encodes it), at most 16384 bytes."`
	ClientToken     string            `flow:"client_token" doc:"RunInstances' idempotency token, at most 64 ASCII characters; default: derived from the workflow name, the step id and the other arguments."`
	Wait            bool              `flow:"wait" default:"true" doc:"Wait until the instance is running (DescribeInstances every 2s, backing off to 15s)."`
	WaitTimeout     time.Duration     `flow:"wait_timeout" default:"10m" doc:"How long to wait for running, e.g. 10m."`
}

// ec2Launched is what ec2.run returns.
type ec2Launched struct {
	InstanceID       string `flow:"instance_id" doc:"The instance's id (i-...)."`
	PrivateIP        string `flow:"private_ip" doc:"Its primary private IPv4 address."`
	State            string `flow:"state" doc:"Its state when the step ended: running after a wait, else pending, running, stopping or stopped."`
	Launched         bool   `flow:"launched" doc:"true when this run launched it; false when an instance launched earlier with the same client token was found."`
	VpcID            string `flow:"vpc_id" doc:"Its VPC."`
	SubnetID         string `flow:"subnet_id" doc:"Its subnet."`
	AvailabilityZone string `flow:"availability_zone" doc:"Its availability zone, e.g. us-east-1a."`
	TagsChanged      bool   `flow:"tags_changed" doc:"true when config_tags had to be written on an instance found by its client token."`
}

func (*ec2Run) Info() Info {
	return Info{
		Name: "ec2.run",
		Doc: "Launch one EC2 instance, or find the one an earlier run launched: idempotent through RunInstances' client token. " +
			"It first looks for an instance launched with the token (DescribeInstances, filter client-token) and uses it if it is not " +
			"terminated (launched: false); otherwise it calls RunInstances with the token, the image, type, subnet, security groups, " +
			"key pair, instance profile, tags (on the instance, at launch), user data and metadata options (IMDSv2 required; " +
			"instance tags in metadata unless metadata_tags is false). config_tags are set at launch too, and kept up to date on an " +
			"instance found by its token (CreateTags of the ones that differ). The default token is a hash of the workflow name, the step id " +
			"and the arguments (config_tags, wait and wait_timeout aside), so re-running a workflow finds its instance and any changed argument " +
			"launches a new one. An instance of the token that was terminated is an error: change an argument or set client_token. " +
			"With wait (the default) it waits until the instance is running (the SDK's InstanceRunning waiter), up to wait_timeout; " +
			"an instance found stopped is returned as it is (ec2.run does not start instances).",
		New:    func() Step { return new(ec2Run) },
		Output: ec2Launched{},
	}
}

// ec2MaxUserData is RunInstances' limit on user data, before base64.
const ec2MaxUserData = 16 * 1024

// ec2MaxClientToken is RunInstances' limit on a client token.
const ec2MaxClientToken = 64

func (s *ec2Run) Validate() error {
	problems := s.problems()
	if s.Wait && s.WaitTimeout <= 0 {
		problems = append(problems, field("wait_timeout").errorf("%s; waiting needs a positive duration, e.g. 10m", s.WaitTimeout))
	}
	return orNil(problems)
}

// Lint reports the problems Validate would find in the arguments that are literals.
func (s *ec2Run) Lint() []engine.Warning { return warnings(s.problems()) }

// problems checks each field on its own: the checks a load can make on literals.
func (s *ec2Run) problems() engine.FieldErrors {
	var out engine.FieldErrors
	for i, g := range s.SecurityGroups {
		if !strings.HasPrefix(g, "sg-") {
			out = append(out, field("security_groups", strconv.Itoa(i)).errorf("%q is not a security group id (sg-...)", g))
		}
	}
	for _, k := range ec2SortedKeys(s.ConfigTags) {
		if _, dup := s.Tags[k]; dup {
			out = append(out, field("config_tags", k).errorf("%s is in tags too: give each tag in one of them", k))
		}
	}
	out = append(out, tagProblems("tags", s.Tags)...)
	out = append(out, tagProblems("config_tags", s.ConfigTags)...)
	for _, k := range ec2SortedKeys(s.ListTags) {
		if err := s.listTagProblem(k); err != nil {
			out = append(out, field("list_tags", k).errorf("%s", err))
		}
	}
	if len(s.UserData) > ec2MaxUserData {
		out = append(out, field("user_data").errorf("%d bytes, more than RunInstances' limit of %d", len(s.UserData), ec2MaxUserData))
	}
	if len(s.ClientToken) > ec2MaxClientToken {
		out = append(out, field("client_token").errorf("%d characters, more than RunInstances' limit of %d", len(s.ClientToken), ec2MaxClientToken))
	}
	for _, r := range s.ClientToken {
		if r > 0x7e || r < 0x20 {
			out = append(out, field("client_token").errorf("%q holds a character that is not printable ASCII", s.ClientToken))
			break
		}
	}
	return out
}

// listTagProblem checks the list tag key: its name, its numbered tags' names, and its items.
func (s *ec2Run) listTagProblem(key string) error {
	parts := listTagKeys(key)
	last := parts[len(parts)-1]
	switch {
	case key == "":
		return errors.New("a tag key is empty")
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return fmt.Errorf("tag key %q begins with aws:, which AWS reserves", key)
	case len([]rune(last)) > ec2MaxTagKey:
		return fmt.Errorf("tag key %q is %d characters, more than EC2's limit of %d", last, len([]rune(last)), ec2MaxTagKey)
	}
	for _, part := range parts {
		_, inTags := s.Tags[part]
		_, inConfig := s.ConfigTags[part]
		if inTags || inConfig {
			return fmt.Errorf("%s, one of the tags the list %s is spread over (%s to %s), is in tags or config_tags too: give each tag in one of them",
				part, key, key, last)
		}
	}
	_, err := spreadList(key, s.ListTags[key])
	return err
}

// listTagParts is how many tags a list of list_tags is spread over: KEY, KEY-2, ... KEY-5. Five,
// so that a boot reads them with the rest of what it needs from instance metadata in one round
// (imds.get makes 16 reads at a time: the identity's 6, the client's tag, 4 other flow:* tags and
// these 5), and most of EC2's 50 tags a resource stay free for the instance's other tags.
const listTagParts = 5

// listTagKeys returns the tags the list key is spread over, in order: KEY, KEY-2, ... KEY-5.
func listTagKeys(key string) []string {
	keys := []string{key}
	for i := 2; i <= listTagParts; i++ {
		keys = append(keys, key+"-"+strconv.Itoa(i))
	}
	return keys
}

// spreadList spreads list, items joined by commas, over the tags of key (listTagKeys), in order:
// each tag holds as many items as fit in a tag's value; the tags the list does not need are
// there, empty. An empty item, an item longer than a tag's value, or a list longer than the tags
// hold is an error.
func spreadList(key, list string) (map[string]string, error) {
	var items []string
	if list != "" {
		items = strings.Split(list, ",")
	}
	keys := listTagKeys(key)
	tags := make(map[string]string, len(keys))
	for _, k := range keys {
		tags[k] = ""
	}
	part, used := 0, 0
	for i, item := range items {
		n := len([]rune(item))
		switch {
		case n == 0:
			return nil, fmt.Errorf("the list %s: item %d is empty (two commas in a row, or one at an end)", key, i)
		case n > ec2MaxTagValue:
			return nil, fmt.Errorf("the list %s: item %q is %d characters, more than a tag's value holds (%d, EC2's limit)", key, item, n, ec2MaxTagValue)
		}
		if used > 0 && used+1+n > ec2MaxTagValue {
			part, used = part+1, 0
		}
		if part == len(keys) {
			continue // counted for the error below
		}
		if used > 0 {
			tags[keys[part]] += ","
			used++
		}
		tags[keys[part]] += item
		used += n
	}
	if part == len(keys) {
		return nil, fmt.Errorf("the list %s, %d items and %d characters with their commas, does not fit in its %d tags (%s to %s, "+
			"%d characters each, EC2's limit on a tag's value; an item is never cut across two): list fewer or shorter items",
			key, len(items), len([]rune(list)), len(keys), key, keys[len(keys)-1], ec2MaxTagValue)
	}
	return tags, nil
}

// gatherList returns the items of the list key that spreadList spread over tags; tags missing
// or empty hold none.
func gatherList(key string, tags map[string]string) []string {
	items := []string{}
	for _, k := range listTagKeys(key) {
		if v := tags[k]; v != "" {
			items = append(items, strings.Split(v, ",")...)
		}
	}
	return items
}

// secretLists makes the tags of a secret list (one that holds a secret, or is one) secret too,
// so that each prints as ***, as the whole list does.
func (s *ec2Run) secretLists(rt *engine.Runtime) {
	for _, k := range ec2SortedKeys(s.ListTags) {
		list := s.ListTags[k]
		if rt.Mask(list) == list {
			continue
		}
		spread, _ := spreadList(k, list)
		for _, part := range spread {
			rt.Secret(part)
		}
	}
}

// configTags are the tags that configure the instance, kept up to date on an instance found by
// its token: config_tags, and the tags of list_tags' lists, those a list does not need empty.
func (s *ec2Run) configTags() map[string]string {
	tags := maps.Clone(s.ConfigTags)
	if tags == nil {
		tags = map[string]string{}
	}
	for _, k := range ec2SortedKeys(s.ListTags) {
		spread, err := spreadList(k, s.ListTags[k])
		if err != nil { // Validate refused it
			continue
		}
		maps.Copy(tags, spread)
	}
	return tags
}

// configDiff returns the config tags that inst does not hold: an empty numbered tag of a list
// counts as held when the instance does not have it, so only a tag that held items is emptied.
func (s *ec2Run) configDiff(have []ec2types.Tag) map[string]string {
	cur := tagMap(have)
	diff := tagDiff(have, s.configTags())
	for k, v := range diff {
		_, had := cur[k]
		_, config := s.ConfigTags[k]
		if !had && v == "" && !config {
			delete(diff, k)
		}
	}
	return diff
}

// launchArgs are the arguments a derived client token is computed from: every argument that
// goes into RunInstances, with empty ones left out so that an input added to ec2.run later does
// not change the tokens of existing workflows.
func (s *ec2Run) launchArgs() map[string]any {
	// Keep launchInputs in step with the keys.
	args := map[string]any{
		"image":         s.Image,
		"instance_type": s.InstanceType,
		"metadata_tags": s.MetadataTags,
	}
	for name, v := range map[string]string{"subnet": s.Subnet, "key_name": s.KeyName, "instance_profile": s.InstanceProfile, "user_data": s.UserData} {
		if v != "" {
			args[name] = v
		}
	}
	if len(s.SecurityGroups) > 0 {
		args["security_groups"] = s.SecurityGroups
	}
	if len(s.Tags) > 0 {
		args["tags"] = s.Tags
	}
	return args
}

// launchInputs names the inputs launchArgs reads.
func launchInputs() []string {
	return []string{"image", "instance_type", "metadata_tags", "subnet", "key_name", "instance_profile",
		"user_data", "security_groups", "tags"}
}

// derivedToken is the default client token: "flow-" and 48 hex digits of a SHA-256 over the
// workflow's name, the step's id and the launch arguments, encoded as JSON (whose maps have
// sorted keys), 53 characters in all.
func (s *ec2Run) derivedToken(workflow, step string) string {
	enc, err := json.Marshal(map[string]any{"v": 1, "workflow": workflow, "step": step, "args": s.launchArgs()})
	if err != nil { // cannot happen: strings, bools, lists and maps of strings
		panic(err)
	}
	sum := sha256.Sum256(enc)
	return "flow-" + hex.EncodeToString(sum[:24])
}

// token returns the client token of this run: the one given, or the derived one.
func (s *ec2Run) token(rt *engine.Runtime) string {
	if s.ClientToken != "" {
		return s.ClientToken
	}
	return s.derivedToken(rt.Workflow, rt.Step)
}

// Plan says what a run would call. With the run's Runtime, and the launch arguments known, a
// derived token is shown as it will be; otherwise it is described.
func (s *ec2Run) Plan(rt *engine.Runtime, known Known) []string {
	if rt != nil {
		s.secretLists(rt)
	}
	token := s.ClientToken
	switch {
	case token != "":
	case rt != nil && known.Input(launchInputs()...):
		token = s.derivedToken(rt.Workflow, rt.Step)
	case rt != nil:
		token = "<derived at run time from the workflow name, the step id and the arguments>"
	default:
		token = "<derived from the workflow name, the step id and the arguments>"
	}
	call := []string{"ec2:RunInstances", "image=" + s.Image, "type=" + s.InstanceType}
	if s.Subnet != "" {
		call = append(call, "subnet="+s.Subnet)
	}
	if len(s.SecurityGroups) > 0 {
		call = append(call, "security_groups="+strings.Join(s.SecurityGroups, ","))
	}
	if s.KeyName != "" {
		call = append(call, "key_name="+s.KeyName)
	}
	if s.InstanceProfile != "" {
		call = append(call, "instance_profile="+s.InstanceProfile)
	}
	if all := s.allTags(); len(all) > 0 {
		call = append(call, "tags="+tagText(all))
	}
	call = append(call, fmt.Sprintf("metadata_tags=%t", s.MetadataTags), "http_tokens=required")
	if s.UserData != "" {
		call = append(call, fmt.Sprintf("user_data=(%d bytes)", len(s.UserData)))
	}
	call = append(call, "client_token="+token)
	found := " (an instance of the token that is not terminated is used as it is)"
	if len(s.ConfigTags) > 0 || len(s.ListTags) > 0 {
		found = " (an instance of the token that is not terminated is used, its config_tags written where they differ)"
	}
	lines := []string{
		"ec2:DescribeInstances client-token=" + token + found,
		strings.Join(call, " ") + " (only when none was found)",
	}
	if len(s.ConfigTags) > 0 || len(s.ListTags) > 0 {
		differ := " (only the tags that differ)"
		if len(s.ListTags) > 0 {
			differ = " (only the tags that differ, and a list's tags it no longer needs, emptied)"
		}
		lines = append(lines, "ec2:CreateTags <the instance found> "+tagText(s.neededConfigTags())+differ)
	}
	if s.Wait {
		lines = append(lines, fmt.Sprintf("ec2:DescribeInstances instance-id=<the instance> until running (every 2s to 15s, up to %s)", s.WaitTimeout))
	}
	return lines
}

func (s *ec2Run) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	s.secretLists(rt)
	client, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	token := s.token(rt)
	inst, err := s.findByToken(ctx, rt, client, token)
	if err != nil {
		return nil, err
	}
	launched := inst == nil
	tagsChanged := false
	if launched {
		if inst, err = s.launch(ctx, rt, client, token); err != nil {
			return nil, err
		}
	} else if len(s.ConfigTags) > 0 || len(s.ListTags) > 0 {
		diff := s.configDiff(inst.Tags)
		if err := createTags(ctx, rt, client, aws.ToString(inst.InstanceId), diff); err != nil {
			return nil, err
		}
		tagsChanged = len(diff) > 0
	}
	if s.Wait {
		switch ec2types.InstanceStateName(ec2StateName(*inst)) {
		case ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopped, ec2types.InstanceStateNameStopping:
		default:
			if inst, err = s.waitRunning(ctx, rt, client, aws.ToString(inst.InstanceId)); err != nil {
				return nil, err
			}
		}
	}
	return ec2Launched{
		InstanceID:       aws.ToString(inst.InstanceId),
		PrivateIP:        aws.ToString(inst.PrivateIpAddress),
		State:            ec2StateName(*inst),
		Launched:         launched,
		VpcID:            aws.ToString(inst.VpcId),
		SubnetID:         aws.ToString(inst.SubnetId),
		AvailabilityZone: ec2Zone(inst),
		TagsChanged:      tagsChanged,
	}, nil
}

// allTags are the tags set at launch: tags and neededConfigTags.
func (s *ec2Run) allTags() map[string]string {
	all := s.neededConfigTags()
	maps.Copy(all, s.Tags)
	return all
}

// neededConfigTags are config_tags and the tags list_tags' lists need (not the empty ones).
func (s *ec2Run) neededConfigTags() map[string]string {
	tags := s.configTags()
	for k, v := range tags {
		if _, config := s.ConfigTags[k]; !config && v == "" {
			delete(tags, k)
		}
	}
	return tags
}

// findByToken returns the instance launched with token that is not terminated or shutting
// down; nil when there is none. If every instance of the token is terminated it fails, since
// RunInstances would refuse the token (IdempotentInstanceTerminated).
func (s *ec2Run) findByToken(ctx context.Context, rt *engine.Runtime, client *ec2.Client, token string) (*ec2types.Instance, error) {
	in := &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("client-token"), Values: []string{token}}}}
	var gone []string
	for p := ec2.NewDescribeInstancesPaginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsFail(rt, err, "DescribeInstances client-token=%s", token)
		}
		for _, r := range page.Reservations {
			for i := range r.Instances {
				inst := &r.Instances[i]
				if inst.State == nil {
					continue
				}
				switch inst.State.Name {
				case ec2types.InstanceStateNameTerminated, ec2types.InstanceStateNameShuttingDown:
					gone = append(gone, aws.ToString(inst.InstanceId))
				default:
					return inst, nil
				}
			}
		}
	}
	if len(gone) > 0 {
		return nil, s.terminatedError(token, gone[0])
	}
	return nil, nil
}

func (s *ec2Run) terminatedError(token, id string) error {
	what := "the instance launched with client token " + token
	if id != "" {
		what = "instance " + id + " launched with client token " + token
	}
	how := "change an argument (e.g. provision's generation input) or set client_token"
	if s.ClientToken != "" {
		how = "set another client_token"
	}
	return fmt.Errorf("%s was terminated; to launch a new one %s", what, how)
}

// launch calls RunInstances with token.
func (s *ec2Run) launch(ctx context.Context, rt *engine.Runtime, client *ec2.Client, token string) (*ec2types.Instance, error) {
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(s.Image),
		InstanceType: ec2types.InstanceType(s.InstanceType),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		ClientToken:  aws.String(token),
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{
			HttpTokens:           ec2types.HttpTokensStateRequired,
			HttpEndpoint:         ec2types.InstanceMetadataEndpointStateEnabled,
			InstanceMetadataTags: ec2types.InstanceMetadataTagsStateDisabled,
		},
	}
	if s.MetadataTags {
		in.MetadataOptions.InstanceMetadataTags = ec2types.InstanceMetadataTagsStateEnabled
	}
	if s.Subnet != "" {
		in.SubnetId = aws.String(s.Subnet)
	}
	if len(s.SecurityGroups) > 0 {
		in.SecurityGroupIds = s.SecurityGroups
	}
	if s.KeyName != "" {
		in.KeyName = aws.String(s.KeyName)
	}
	if s.InstanceProfile != "" {
		if strings.HasPrefix(s.InstanceProfile, "arn:") {
			in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Arn: aws.String(s.InstanceProfile)}
		} else {
			in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Name: aws.String(s.InstanceProfile)}
		}
	}
	if all := s.allTags(); len(all) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2Tags(all)}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	if s.UserData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(s.UserData)))
	}
	out, err := client.RunInstances(ctx, in)
	if err != nil {
		switch awsCode(err) {
		case "IdempotentInstanceTerminated":
			return nil, s.terminatedError(token, "")
		case "IdempotentParameterMismatch":
			return nil, awsErrorf(rt, err, "client token %s was already used by a RunInstances with other arguments "+
				"(IdempotentParameterMismatch): set another client_token, or give the arguments it was used with", token)
		}
		return nil, awsFail(rt, err, "RunInstances image=%s client_token=%s", s.Image, token)
	}
	if len(out.Instances) == 0 {
		return nil, fmt.Errorf("RunInstances with client token %s answered with no instance", token)
	}
	inst := &out.Instances[0]
	switch {
	case inst.InstanceId == nil:
		return nil, fmt.Errorf("RunInstances with client token %s answered without the instance's id", token)
	case inst.State == nil:
		return nil, fmt.Errorf("RunInstances answered without the instance's state (instance %s, client token %s)",
			aws.ToString(inst.InstanceId), token)
	}
	return inst, nil
}

type ec2WaitDelaysKey struct{}

// ec2WaitDelays are the waiter's delays between polls; tests shorten them through the context.
type ec2WaitDelays struct{ min, max time.Duration }

// waitRunning waits until instance id is running and returns it as last described.
func (s *ec2Run) waitRunning(ctx context.Context, rt *engine.Runtime, client *ec2.Client, id string) (*ec2types.Instance, error) {
	delays := ec2WaitDelays{min: 2 * time.Second, max: 15 * time.Second}
	if d, ok := ctx.Value(ec2WaitDelaysKey{}).(ec2WaitDelays); ok {
		delays = d
	}
	var last *ec2types.Instance
	rt.Waiting(fmt.Sprintf("instance %s to be running", id))
	defer rt.Waiting("")
	w := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = delays.min, delays.max
		accept := o.Retryable
		o.Retryable = func(ctx context.Context, in *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			if err == nil && out != nil {
				for _, r := range out.Reservations {
					for i := range r.Instances {
						last = &r.Instances[i]
					}
				}
			}
			if last != nil && last.State != nil {
				rt.Waiting(fmt.Sprintf("instance %s to be running (%s)", id, last.State.Name))
			}
			return accept(ctx, in, out, err)
		}
	})
	out, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, s.WaitTimeout)
	if err == nil {
		for _, r := range out.Reservations {
			for i := range r.Instances {
				return &r.Instances[i], nil
			}
		}
		return nil, fmt.Errorf("DescribeInstances of instance %s answered with no instance", id)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for instance %s to be running: %w", id, context.Cause(ctx))
	}
	if last != nil && last.State != nil {
		state := string(last.State.Name)
		// The waiter ends on wait_timeout either between polls or in the middle of one.
		if strings.Contains(err.Error(), "exceeded max wait time") || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("instance %s is still %s after %s (wait_timeout); it was not stopped, and a re-run finds it", id, state, s.WaitTimeout)
		}
		if last.State.Name != ec2types.InstanceStateNameRunning && last.State.Name != ec2types.InstanceStateNamePending {
			msg := fmt.Sprintf("instance %s is %s, not running", id, state)
			if r := last.StateReason; r != nil && aws.ToString(r.Message) != "" {
				msg += ": " + aws.ToString(r.Message)
			}
			return nil, errors.New(msg)
		}
	}
	return nil, awsFail(rt, err, "waiting for instance %s to be running", id)
}

// ec2Describe describes one instance.
type ec2Describe struct {
	InstanceID string              `flow:"instance_id" doc:"The instance's id (i-...). Set this or filters."`
	Filters    map[string][]string `flow:"filters" doc:"DescribeInstances filters, name to values, e.g. {tag:ClientId: [acme], instance-state-name: [running]}. Set this or instance_id."`
	First      bool                `flow:"first" default:"false" doc:"When several instances match the filters, take the most recently launched instead of failing."`
}

// ec2InstanceInfo is what ec2.describe returns.
type ec2InstanceInfo struct {
	InstanceID       string            `flow:"instance_id" doc:"The instance's id."`
	State            string            `flow:"state" doc:"pending, running, stopping, stopped, shutting-down or terminated."`
	PrivateIP        string            `flow:"private_ip" doc:"Its primary private IPv4 address (empty once terminated)."`
	PublicIP         string            `flow:"public_ip" doc:"Its public IPv4 address; empty without one."`
	ImageID          string            `flow:"image_id" doc:"The AMI it was launched from."`
	InstanceType     string            `flow:"instance_type" doc:"Its instance type."`
	SubnetID         string            `flow:"subnet_id" doc:"Its subnet."`
	VpcID            string            `flow:"vpc_id" doc:"Its VPC."`
	AvailabilityZone string            `flow:"availability_zone" doc:"Its availability zone."`
	LaunchTime       string            `flow:"launch_time" doc:"When it was launched, RFC 3339 in UTC."`
	Tags             map[string]string `flow:"tags" doc:"Its tags."`
}

func (*ec2Describe) Info() Info {
	return Info{
		Name: "ec2.describe",
		Doc: "Describe one EC2 instance, by id or by DescribeInstances filters (paginated), read-only. With filters, no match is an " +
			"error naming the filters, and several matches are an error listing them unless first is true (then the most recently " +
			"launched is taken). Terminated instances stay visible for about an hour, as on AWS: filter on instance-state-name to " +
			"leave them out. This is the way to read an instance's tags where instance metadata tags are off.",
		New:      func() Step { return new(ec2Describe) },
		Output:   ec2InstanceInfo{},
		ReadOnly: true,
	}
}

func (s *ec2Describe) Validate() error {
	problems := s.problems()
	if s.InstanceID == "" && len(s.Filters) == 0 {
		problems = append(problems, field("instance_id").errorf("set instance_id or filters"))
	}
	return orNil(problems)
}

// Lint reports the problems Validate would find in the arguments that are literals.
func (s *ec2Describe) Lint() []engine.Warning { return warnings(s.problems()) }

func (s *ec2Describe) problems() engine.FieldErrors {
	var out engine.FieldErrors
	if s.InstanceID != "" && len(s.Filters) > 0 {
		out = append(out, field("filters").errorf("set instance_id or filters, not both"))
	}
	for _, name := range ec2SortedKeys(s.Filters) {
		if len(s.Filters[name]) == 0 {
			out = append(out, field("filters", name).errorf("%s has no values", name))
		}
	}
	return out
}

func (s *ec2Describe) Plan(rt *engine.Runtime, _ Known) []string {
	if s.InstanceID != "" {
		return []string{"ec2:DescribeInstances instance-id=" + s.InstanceID}
	}
	return []string{"ec2:DescribeInstances " + filterText(s.Filters)}
}

func (s *ec2Describe) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	client, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	in := &ec2.DescribeInstancesInput{}
	what := "instance-id=" + s.InstanceID
	if s.InstanceID != "" {
		in.InstanceIds = []string{s.InstanceID}
	} else {
		what = filterText(s.Filters)
		for _, name := range ec2SortedKeys(s.Filters) {
			in.Filters = append(in.Filters, ec2types.Filter{Name: aws.String(name), Values: s.Filters[name]})
		}
	}
	var found []ec2types.Instance
	for p := ec2.NewDescribeInstancesPaginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			if s.InstanceID != "" && awsCode(err) == "InvalidInstanceID.NotFound" {
				return nil, awsErrorf(rt, err, "no instance %s (InvalidInstanceID.NotFound)", s.InstanceID)
			}
			return nil, awsFail(rt, err, "DescribeInstances %s", what)
		}
		for _, r := range page.Reservations {
			found = append(found, r.Instances...)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("no instance matches %s", what)
	case len(found) > 1 && !s.First:
		list := make([]string, len(found))
		for i, inst := range found {
			list[i] = aws.ToString(inst.InstanceId) + " (" + ec2StateName(inst) + ")"
		}
		return nil, fmt.Errorf("%d instances match %s: %s; narrow the filters, or set first: true to take the most recently launched",
			len(found), what, strings.Join(list, ", "))
	}
	pick := found[0]
	for _, inst := range found[1:] {
		if !aws.ToTime(inst.LaunchTime).Before(aws.ToTime(pick.LaunchTime)) {
			pick = inst
		}
	}
	out := ec2InstanceInfo{
		InstanceID:       aws.ToString(pick.InstanceId),
		State:            ec2StateName(pick),
		PrivateIP:        aws.ToString(pick.PrivateIpAddress),
		PublicIP:         aws.ToString(pick.PublicIpAddress),
		ImageID:          aws.ToString(pick.ImageId),
		InstanceType:     string(pick.InstanceType),
		SubnetID:         aws.ToString(pick.SubnetId),
		VpcID:            aws.ToString(pick.VpcId),
		AvailabilityZone: ec2Zone(&pick),
		Tags:             map[string]string{},
	}
	if pick.LaunchTime != nil {
		out.LaunchTime = pick.LaunchTime.UTC().Format(time.RFC3339)
	}
	for _, t := range pick.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out, nil
}

func ec2StateName(inst ec2types.Instance) string {
	if inst.State == nil {
		return ""
	}
	return string(inst.State.Name)
}

func ec2Zone(inst *ec2types.Instance) string {
	if inst.Placement == nil {
		return ""
	}
	return aws.ToString(inst.Placement.AvailabilityZone)
}

func ec2SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var (
	_ Step      = (*ec2Run)(nil)
	_ Validator = (*ec2Run)(nil)
	_ Planner   = (*ec2Run)(nil)
	_ Linter    = (*ec2Run)(nil)
	_ Step      = (*ec2Describe)(nil)
	_ Validator = (*ec2Describe)(nil)
	_ Planner   = (*ec2Describe)(nil)
	_ Linter    = (*ec2Describe)(nil)
)
