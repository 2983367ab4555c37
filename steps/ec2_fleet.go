package steps

// The ec2 steps a fleet's life needs beyond launching one instance: keeping an instance's tags
// up to date, listing many instances, and terminating them.

import (
	"context"
	"errors"
	"fmt"
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
	Register(new(ec2Tag))
	Register(new(ec2List))
	Register(new(ec2Terminate))
}

// EC2's limits on a tag, in characters.
const (
	ec2MaxTagKey   = 128
	ec2MaxTagValue = 256
)

// tagProblems checks tags against EC2's limits: keys of 1 to 128 characters, not beginning with
// the reserved aws:, and values of at most 256.
func tagProblems(name string, tags map[string]string) engine.FieldErrors {
	var out engine.FieldErrors
	for _, k := range ec2SortedKeys(tags) {
		at := field(name, k)
		switch n, v := len([]rune(k)), len([]rune(tags[k])); {
		case n == 0:
			out = append(out, at.errorf("a tag key is empty"))
		case n > ec2MaxTagKey:
			out = append(out, at.errorf("tag key %q is %d characters, more than EC2's limit of %d", k, n, ec2MaxTagKey))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			out = append(out, at.errorf("tag key %q begins with aws:, which AWS reserves", k))
		case v > ec2MaxTagValue:
			out = append(out, at.errorf("the value of tag %s is %d characters, more than EC2's limit of %d", k, v, ec2MaxTagValue))
		}
	}
	return out
}

// tagText writes tags as k=v,k=v in key order.
func tagText(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range ec2SortedKeys(tags) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ",")
}

// ec2Tags converts tags to the SDK's, in key order.
func ec2Tags(tags map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(tags))
	for _, k := range ec2SortedKeys(tags) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// tagMap converts the SDK's tags to a map.
func tagMap(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// tagDiff returns the tags of want that have do not hold the same value in have.
func tagDiff(have []ec2types.Tag, want map[string]string) map[string]string {
	cur := tagMap(have)
	diff := map[string]string{}
	for k, v := range want {
		if old, ok := cur[k]; !ok || old != v {
			diff[k] = v
		}
	}
	return diff
}

// createTags writes tags on instance id with CreateTags; no call when there are none.
func createTags(ctx context.Context, rt *engine.Runtime, c *ec2.Client, id string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(tags)})
	if err != nil {
		return awsFail(rt, err, "CreateTags %s %s", id, strings.Join(ec2SortedKeys(tags), ","))
	}
	return nil
}

// describeInstances returns every instance DescribeInstances answers for in (paginated).
func describeInstances(ctx context.Context, rt *engine.Runtime, c *ec2.Client, in *ec2.DescribeInstancesInput, what string) ([]ec2types.Instance, error) {
	var found []ec2types.Instance
	for p := ec2.NewDescribeInstancesPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsFail(rt, err, "DescribeInstances %s", what)
		}
		for _, r := range page.Reservations {
			found = append(found, r.Instances...)
		}
	}
	return found, nil
}

// ---- ec2.tag

// ec2Tag makes an instance's tags hold the given values.
type ec2Tag struct {
	InstanceID string            `flow:"instance_id,required" doc:"The instance's id (i-...)."`
	Tags       map[string]string `flow:"tags,required" doc:"Tags the instance must have, key to value; its other tags are left alone."`
}

type ec2Tagged struct {
	Changed bool              `flow:"changed" doc:"Whether a tag was written (false: every tag already held its value)."`
	Tags    map[string]string `flow:"tags" doc:"Every tag of the instance after the step."`
}

func (*ec2Tag) Info() Info {
	return Info{
		Name: "ec2.tag",
		Doc: "Make an instance's tags hold the given values, idempotently: it reads the instance's tags (DescribeInstances) " +
			"and writes only the ones that differ (CreateTags), so a re-run makes no call that changes anything. Tags not " +
			"named are left alone. An instance whose metadata shows its tags shows the new values at once: this is how a " +
			"setting its boot reads from a tag changes without a new instance.",
		New:    func() Step { return new(ec2Tag) },
		Output: ec2Tagged{},
	}
}

func (s *ec2Tag) Validate() error {
	problems := tagProblems("tags", s.Tags)
	if !strings.HasPrefix(s.InstanceID, "i-") {
		problems = append(problems, field("instance_id").errorf("%q is not an instance id (i-...)", s.InstanceID))
	}
	if len(s.Tags) == 0 {
		problems = append(problems, field("tags").errorf("give at least one tag"))
	}
	return orNil(problems)
}

func (s *ec2Tag) Lint() []engine.Warning { return warnings(tagProblems("tags", s.Tags)) }

func (s *ec2Tag) Plan(rt *engine.Runtime, _ Known) []string {
	return []string{
		"ec2:DescribeInstances instance-id=" + s.InstanceID,
		"ec2:CreateTags " + s.InstanceID + " " + tagText(s.Tags) + " (only the tags that differ)",
	}
}

func (s *ec2Tag) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	found, err := describeInstances(ctx, rt, c, &ec2.DescribeInstancesInput{InstanceIds: []string{s.InstanceID}}, "instance-id="+s.InstanceID)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no instance %s", s.InstanceID)
	}
	diff := tagDiff(found[0].Tags, s.Tags)
	if err := createTags(ctx, rt, c, s.InstanceID, diff); err != nil {
		return nil, err
	}
	all := tagMap(found[0].Tags)
	for k, v := range diff {
		all[k] = v
	}
	return ec2Tagged{Changed: len(diff) > 0, Tags: all}, nil
}

// ---- ec2.list

// ec2List lists the instances that match filters.
type ec2List struct {
	Filters map[string][]string `flow:"filters,required" doc:"DescribeInstances filters, name to values, e.g. {tag:ClientId: [acme]} or {tag-key: [ClientId]}."`
	Live    bool                `flow:"live" default:"true" doc:"Leave out instances that are terminated or shutting down (they stay visible for about an hour)."`
}

// ec2Listed is one instance in ec2.list's output.
type ec2Listed struct {
	InstanceID string            `flow:"instance_id" doc:"The instance's id."`
	State      string            `flow:"state" doc:"pending, running, stopping, stopped, shutting-down or terminated."`
	PrivateIP  string            `flow:"private_ip" doc:"Its primary private IPv4 address (empty once terminated)."`
	LaunchTime string            `flow:"launch_time" doc:"When it was launched, RFC 3339 in UTC."`
	Tags       map[string]string `flow:"tags" doc:"Its tags."`
}

type ec2ListResult struct {
	Instances   []ec2Listed `flow:"instances" doc:"The instances that match, most recently launched first (then by id)."`
	InstanceIDs []string    `flow:"instance_ids" doc:"Their ids, in the same order."`
	PrivateIPs  []string    `flow:"private_ips" doc:"Their private IPv4 addresses, those that have one, in the same order."`
	Count       int         `flow:"count" doc:"How many match."`
}

func (*ec2List) Info() Info {
	return Info{
		Name: "ec2.list",
		Doc: "List every instance that matches DescribeInstances filters (paginated), read-only: none is an empty list, " +
			"not an error. Terminated instances are left out unless live is false. Each instance comes with its id, " +
			"state, private IP, launch time and tags; the newest first.",
		New:      func() Step { return new(ec2List) },
		Output:   ec2ListResult{},
		ReadOnly: true,
	}
}

func (s *ec2List) Validate() error { return orNil(filterProblems(s.Filters)) }

func (s *ec2List) Lint() []engine.Warning { return warnings(filterProblems(s.Filters)) }

// filterProblems checks DescribeInstances filters: at least one, each with values.
func filterProblems(filters map[string][]string) engine.FieldErrors {
	if filters != nil && len(filters) == 0 {
		return engine.FieldErrors{field("filters").errorf("give at least one filter")}
	}
	var out engine.FieldErrors
	for _, name := range ec2SortedKeys(filters) {
		if len(filters[name]) == 0 {
			out = append(out, field("filters", name).errorf("%s has no values", name))
		}
	}
	return out
}

func (s *ec2List) Plan(rt *engine.Runtime, _ Known) []string {
	line := "ec2:DescribeInstances " + filterText(s.Filters) + " (paginated)"
	if s.Live {
		line += ", leaving out terminated and shutting-down instances"
	}
	return []string{line}
}

// filterText writes filters as name=value,value, sorted by name.
func filterText(filters map[string][]string) string {
	var parts []string
	for _, name := range ec2SortedKeys(filters) {
		parts = append(parts, name+"="+strings.Join(filters[name], ","))
	}
	return strings.Join(parts, " ")
}

// ec2Filters converts filters to the SDK's, in name order.
func ec2Filters(filters map[string][]string) []ec2types.Filter {
	out := make([]ec2types.Filter, 0, len(filters))
	for _, name := range ec2SortedKeys(filters) {
		out = append(out, ec2types.Filter{Name: aws.String(name), Values: filters[name]})
	}
	return out
}

// gone reports whether an instance is terminated or on its way there.
func gone(inst ec2types.Instance) bool {
	switch ec2types.InstanceStateName(ec2StateName(inst)) {
	case ec2types.InstanceStateNameTerminated, ec2types.InstanceStateNameShuttingDown:
		return true
	}
	return false
}

func (s *ec2List) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	found, err := describeInstances(ctx, rt, c, &ec2.DescribeInstancesInput{Filters: ec2Filters(s.Filters)}, filterText(s.Filters))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(found, func(i, j int) bool {
		ti, tj := aws.ToTime(found[i].LaunchTime), aws.ToTime(found[j].LaunchTime)
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return aws.ToString(found[i].InstanceId) < aws.ToString(found[j].InstanceId)
	})
	res := ec2ListResult{Instances: []ec2Listed{}, InstanceIDs: []string{}, PrivateIPs: []string{}}
	for _, inst := range found {
		if s.Live && gone(inst) {
			continue
		}
		l := ec2Listed{
			InstanceID: aws.ToString(inst.InstanceId),
			State:      ec2StateName(inst),
			PrivateIP:  aws.ToString(inst.PrivateIpAddress),
			Tags:       tagMap(inst.Tags),
		}
		if inst.LaunchTime != nil {
			l.LaunchTime = inst.LaunchTime.UTC().Format(time.RFC3339)
		}
		res.Instances = append(res.Instances, l)
		res.InstanceIDs = append(res.InstanceIDs, l.InstanceID)
		if l.PrivateIP != "" {
			res.PrivateIPs = append(res.PrivateIPs, l.PrivateIP)
		}
	}
	res.Count = len(res.Instances)
	return res, nil
}

// ---- ec2.terminate

// ec2Terminate terminates instances, idempotently.
type ec2Terminate struct {
	InstanceIDs []string            `flow:"instance_ids" doc:"The instances to terminate (i-...). Set this or filters."`
	Filters     map[string][]string `flow:"filters" doc:"DescribeInstances filters that pick the instances, e.g. {tag:ClientId: [acme]}; one of them must be a tag:KEY, client-token or instance-id filter, so that no filter can reach every instance. Set this or instance_ids."`
	Wait        bool                `flow:"wait" default:"true" doc:"Wait until every instance is terminated (DescribeInstances every 2s, backing off to 15s)."`
	WaitTimeout time.Duration       `flow:"wait_timeout" default:"10m" doc:"How long to wait, e.g. 10m."`
}

type ec2Terminated struct {
	InstanceIDs []string `flow:"instance_ids" doc:"The instances this step asked to terminate, sorted; empty when every one was already terminated or none matched."`
	Changed     bool     `flow:"changed" doc:"Whether TerminateInstances was called."`
}

func (*ec2Terminate) Info() Info {
	return Info{
		Name: "ec2.terminate",
		Doc: "Terminate instances, given by id or found by DescribeInstances filters (the client's tag, provision's client token), " +
			"idempotently: instances already terminated or shutting down, and ids EC2 no longer knows, are left as they are, so a " +
			"re-run, or a run that matches nothing, changes nothing and succeeds. The others are terminated (TerminateInstances, " +
			"up to 50 ids a call) and, with wait, waited for until terminated (the SDK's InstanceTerminated waiter).",
		New:    func() Step { return new(ec2Terminate) },
		Output: ec2Terminated{},
	}
}

// ec2TerminateBatch is how many ids one TerminateInstances call carries.
const ec2TerminateBatch = 50

func (s *ec2Terminate) Validate() error {
	problems := s.problems()
	if s.InstanceIDs == nil && s.Filters == nil {
		problems = append(problems, field("instance_ids").errorf("set instance_ids or filters"))
	}
	if s.Wait && s.WaitTimeout <= 0 {
		problems = append(problems, field("wait_timeout").errorf("%s; waiting needs a positive duration, e.g. 10m", s.WaitTimeout))
	}
	return orNil(problems)
}

func (s *ec2Terminate) Lint() []engine.Warning { return warnings(s.problems()) }

func (s *ec2Terminate) problems() engine.FieldErrors {
	var out engine.FieldErrors
	if s.InstanceIDs != nil && s.Filters != nil {
		out = append(out, field("filters").errorf("set instance_ids or filters, not both"))
	}
	for i, id := range s.InstanceIDs {
		if !strings.HasPrefix(id, "i-") {
			out = append(out, field("instance_ids", strconv.Itoa(i)).errorf("%q is not an instance id (i-...)", id))
		}
	}
	if s.Filters != nil {
		out = append(out, filterProblems(s.Filters)...)
		narrow := false
		for name := range s.Filters {
			narrow = narrow || strings.HasPrefix(name, "tag:") || name == "client-token" || name == "instance-id"
		}
		if !narrow && len(s.Filters) > 0 {
			out = append(out, field("filters").errorf("none of %s names the instances: add a tag:KEY, client-token or instance-id filter, "+
				"so these filters cannot reach every instance", strings.Join(ec2SortedKeys(s.Filters), ", ")))
		}
	}
	return out
}

func (s *ec2Terminate) Plan(rt *engine.Runtime, _ Known) []string {
	var lines []string
	if s.Filters != nil {
		lines = append(lines,
			"ec2:DescribeInstances "+filterText(s.Filters)+" (paginated)",
			"ec2:TerminateInstances every instance that matches "+filterText(s.Filters)+", unless already terminated or shutting down")
	} else {
		lines = append(lines,
			"ec2:DescribeInstances instance-id="+strings.Join(s.InstanceIDs, ","),
			"ec2:TerminateInstances "+strings.Join(s.InstanceIDs, ",")+", those not already terminated or shutting down")
	}
	if s.Wait {
		lines = append(lines, s.waitLine(""))
	}
	return lines
}

// waitLine is the wait for ids (or, "", for the instances terminated) in a plan.
func (s *ec2Terminate) waitLine(ids string) string {
	if ids != "" {
		ids += " "
	}
	return fmt.Sprintf("ec2:DescribeInstances until %sterminated (every 2s to 15s, up to %s)", ids, s.WaitTimeout)
}

// Preview finds the instances as Run does and names those it would terminate, in the batches
// Run would send, and those it would wait for.
func (s *ec2Terminate) Preview(ctx context.Context, rt *engine.Runtime) ([]string, error) {
	c, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	insts, err := s.find(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	live, waiting := terminable(insts)
	lines := s.Plan(rt, Known{})[:1]
	if len(live) == 0 {
		why := "no instance matches"
		if len(insts) > 0 {
			why = fmt.Sprintf("the %d that match are terminated or shutting down already", len(insts))
		}
		lines = append(lines, "nothing to terminate: "+why)
	}
	for _, batch := range batches(live, ec2TerminateBatch) {
		lines = append(lines, "ec2:TerminateInstances "+strings.Join(batch, " "))
	}
	if all := append(waiting, live...); s.Wait && len(all) > 0 {
		sort.Strings(all)
		lines = append(lines, s.waitLine(strings.Join(all, " ")))
	}
	return lines, nil
}

// terminable sorts instances into those to terminate and those shutting down already, each
// sorted by id; terminated ones are in neither.
func terminable(insts []ec2types.Instance) (live, waiting []string) {
	for _, inst := range insts {
		id := aws.ToString(inst.InstanceId)
		switch ec2types.InstanceStateName(ec2StateName(inst)) {
		case ec2types.InstanceStateNameTerminated:
		case ec2types.InstanceStateNameShuttingDown:
			waiting = append(waiting, id)
		default:
			live = append(live, id)
		}
	}
	sort.Strings(live)
	sort.Strings(waiting)
	return live, waiting
}

func (s *ec2Terminate) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := ec2Client(ctx)
	if err != nil {
		return nil, err
	}
	insts, err := s.find(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	live, waiting := terminable(insts)
	res := ec2Terminated{InstanceIDs: live, Changed: len(live) > 0}
	for _, batch := range batches(live, ec2TerminateBatch) {
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: batch}); err != nil {
			return nil, awsFail(rt, err, "TerminateInstances %s", strings.Join(batch, ","))
		}
	}
	waiting = append(waiting, live...)
	if s.Wait && len(waiting) > 0 {
		sort.Strings(waiting)
		if err := s.waitTerminated(ctx, rt, c, waiting); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// find returns the instances to terminate: by id (ids EC2 does not know are left out: they
// are long gone) or by filters.
func (s *ec2Terminate) find(ctx context.Context, rt *engine.Runtime, c *ec2.Client) ([]ec2types.Instance, error) {
	if s.Filters != nil {
		return describeInstances(ctx, rt, c, &ec2.DescribeInstancesInput{Filters: ec2Filters(s.Filters)}, filterText(s.Filters))
	}
	if len(s.InstanceIDs) == 0 {
		return nil, nil
	}
	// By filter rather than by InstanceIds, which fails the whole call when one id is unknown.
	in := &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: dedupe(s.InstanceIDs)}}}
	return describeInstances(ctx, rt, c, in, "instance-id="+strings.Join(s.InstanceIDs, ","))
}

// waitTerminated waits until every instance of ids is terminated.
func (s *ec2Terminate) waitTerminated(ctx context.Context, rt *engine.Runtime, c *ec2.Client, ids []string) error {
	delays := ec2WaitDelays{min: 2 * time.Second, max: 15 * time.Second}
	if d, ok := ctx.Value(ec2WaitDelaysKey{}).(ec2WaitDelays); ok {
		delays = d
	}
	w := ec2.NewInstanceTerminatedWaiter(c, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = delays.min, delays.max
	})
	rt.Waiting(strings.Join(ids, ", ") + " to be terminated")
	defer rt.Waiting("")
	err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, s.WaitTimeout)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("waiting for %s to be terminated: %w", strings.Join(ids, ", "), context.Cause(ctx))
	case strings.Contains(err.Error(), "exceeded max wait time") || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s asked to terminate, and not all terminated after %s (wait_timeout); a re-run waits again", strings.Join(ids, ", "), s.WaitTimeout)
	}
	return awsFail(rt, err, "waiting for %s to be terminated", strings.Join(ids, ", "))
}

var (
	_ Step      = (*ec2Tag)(nil)
	_ Validator = (*ec2Tag)(nil)
	_ Planner   = (*ec2Tag)(nil)
	_ Linter    = (*ec2Tag)(nil)
	_ Step      = (*ec2List)(nil)
	_ Validator = (*ec2List)(nil)
	_ Planner   = (*ec2List)(nil)
	_ Linter    = (*ec2List)(nil)
	_ Step      = (*ec2Terminate)(nil)
	_ Validator = (*ec2Terminate)(nil)
	_ Planner   = (*ec2Terminate)(nil)
	_ Previewer = (*ec2Terminate)(nil)
	_ Linter    = (*ec2Terminate)(nil)
)
