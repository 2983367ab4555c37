package steps

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// launchT launches an instance tagged ClientId=client through ec2.run and returns its outputs.
func launchT(t *testing.T, ctx context.Context, client string, config map[string]any) map[string]any {
	t.Helper()
	out, err := runStepT(t, ctx, "ec2.run", map[string]any{
		"image": "ami-0639efad2af438260", "tags": map[string]any{"ClientId": client}, "config_tags": config,
		"client_token": "tok-" + client,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEC2RunConfigTags: config_tags are set at launch, are not part of the token, and a re-run
// with other values rewrites them on the same instance.
func TestEC2RunConfigTags(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "config-tags"})
	run := func(prefix string) map[string]any {
		t.Helper()
		out, err := runStepT(t, s.ctx, "ec2.run", map[string]any{
			"image": "ami-0639efad2af438260", "tags": map[string]any{"ClientId": "acme"},
			"config_tags": map[string]any{"flow:param-prefix": prefix},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := run("acme.")
	again := run("/clients/acme/")
	if again["instance_id"] != first["instance_id"] || again["launched"] != false || again["tags_changed"] != true {
		t.Fatalf("a changed config tag: %v then %v; want the same instance, tags_changed", first, again)
	}
	tags := tagMap(s.instance(t, first["instance_id"].(string)).Tags)
	if tags["flow:param-prefix"] != "/clients/acme/" || tags["ClientId"] != "acme" {
		t.Errorf("tags %v", tags)
	}
	creates := s.calls.get("CreateTags")
	if out := run("/clients/acme/"); out["tags_changed"] != false || s.calls.get("CreateTags") != creates {
		t.Errorf("the same config tags again: tags_changed %v, CreateTags %d -> %d", out["tags_changed"], creates, s.calls.get("CreateTags"))
	}
	_, err := runStepT(t, s.ctx, "ec2.run", map[string]any{"image": "ami-0639efad2af438260",
		"config_tags": map[string]any{"flow:required": strings.Repeat("X", 257)}})
	if err == nil || !strings.Contains(err.Error(), "more than EC2's limit of 256") {
		t.Errorf("a 257-character tag value: %v", err)
	}
}

func TestEC2TagListTerminate(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "lifecycle"})
	ctx := context.WithValue(s.ctx, ec2WaitDelaysKey{}, ec2WaitDelays{min: time.Millisecond, max: 5 * time.Millisecond})
	acme := launchT(t, ctx, "acme", nil)["instance_id"].(string)
	beta := launchT(t, ctx, "beta", nil)["instance_id"].(string)

	out, err := runStepT(t, ctx, "ec2.tag", map[string]any{"instance_id": acme, "tags": map[string]any{"flow:zone-id": "Z1"}})
	if err != nil || out["changed"] != true || out["tags"].(map[string]any)["ClientId"] != "acme" {
		t.Fatalf("ec2.tag: %v, %v", out, err)
	}
	creates := s.calls.get("CreateTags")
	if out, err := runStepT(t, ctx, "ec2.tag", map[string]any{"instance_id": acme, "tags": map[string]any{"flow:zone-id": "Z1"}}); err != nil || out["changed"] != false || s.calls.get("CreateTags") != creates {
		t.Errorf("ec2.tag again: %v, %v, CreateTags %d -> %d", out, err, creates, s.calls.get("CreateTags"))
	}

	list, err := runStepT(t, ctx, "ec2.list", map[string]any{"filters": map[string]any{"tag-key": []any{"ClientId"}}})
	if err != nil || list["count"] != 2 || len(list["private_ips"].([]any)) != 2 {
		t.Fatalf("ec2.list: %v, %v", list, err)
	}

	if _, err := runStepT(t, ctx, "ec2.terminate", map[string]any{"filters": map[string]any{"instance-state-name": []any{"running"}}}); err == nil ||
		!strings.Contains(err.Error(), "add a tag:KEY, client-token or instance-id filter") {
		t.Errorf("terminate by state alone: %v; want refused", err)
	}
	out, err = runStepT(t, ctx, "ec2.terminate", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}})
	if err != nil || out["changed"] != true || len(out["instance_ids"].([]any)) != 1 || out["instance_ids"].([]any)[0] != acme {
		t.Fatalf("ec2.terminate: %v, %v", out, err)
	}
	if st := ec2StateName(s.instance(t, acme)); st != "terminated" {
		t.Errorf("acme's instance is %s after a waited terminate", st)
	}
	if st := ec2StateName(s.instance(t, beta)); st != "running" {
		t.Errorf("beta's instance is %s: another client's instance was touched", st)
	}
	terminates := s.calls.get("TerminateInstances")
	out, err = runStepT(t, ctx, "ec2.terminate", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}})
	if err != nil || out["changed"] != false || s.calls.get("TerminateInstances") != terminates {
		t.Errorf("ec2.terminate again: %v, %v; want no call", out, err)
	}
	if out, err := runStepT(t, ctx, "ec2.terminate", map[string]any{"instance_ids": []any{"i-00000000000000000"}}); err != nil || out["changed"] != false {
		t.Errorf("an unknown id: %v, %v; want nothing to do", out, err)
	}
	list, _ = runStepT(t, ctx, "ec2.list", map[string]any{"filters": map[string]any{"tag-key": []any{"ClientId"}}})
	if list["count"] != 1 {
		t.Errorf("ec2.list after the terminate lists %v: terminated instances are left out", list["instance_ids"])
	}
}

func TestSSMDeleteOnlyTheClients(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{})
	ctx := WithAWS(context.Background(), a)
	cfg, _ := a.Config(ctx)
	c := ssm.NewFromConfig(cfg)
	for _, n := range []string{"acme.A", "acme.B", "acme2.A", "acme-b.A", "/clients/acme/A", "/clients/acme/deep/B", "/clients/acmex/A"} {
		typ := ssmtypes.ParameterTypeString
		if strings.HasSuffix(n, "B") {
			typ = ssmtypes.ParameterTypeSecureString
		}
		if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v"), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []map[string]any{
		{"prefix": "acme", "client": "acme"},
		{"prefix": "/clients/", "client": "acme"},
		{"prefix": "/clients/acme/", "client": "acm"},
		{"prefix": "/", "client": "acme"},
		{"prefix": "/clients/acme.", "client": "acme"},
		{"prefix": "acme.", "client": "acme."},
	} {
		if _, err := runStepT(t, ctx, "ssm.delete", bad); err == nil {
			t.Errorf("ssm.delete %v succeeded; want refused", bad)
		}
	}
	list, err := runStepT(t, ctx, "ssm.list", map[string]any{"prefix": "/clients/acme/"})
	if err != nil || list["count"] != 2 || list["types"].(map[string]any)["deep/B"] != "SecureString" {
		t.Fatalf("ssm.list: %v, %v", list, err)
	}
	for _, tc := range []struct {
		prefix string
		want   string
	}{{"acme.", "acme.A acme.B"}, {"/clients/acme/", "/clients/acme/A /clients/acme/deep/B"}} {
		out, err := runStepT(t, ctx, "ssm.delete", map[string]any{"prefix": tc.prefix, "client": "acme"})
		if err != nil || out["changed"] != true || joinAny(out["names"]) != tc.want {
			t.Errorf("ssm.delete %s: %v, %v; want %s", tc.prefix, out, err, tc.want)
		}
		if out, err := runStepT(t, ctx, "ssm.delete", map[string]any{"prefix": tc.prefix, "client": "acme"}); err != nil || out["changed"] != false {
			t.Errorf("ssm.delete %s again: %v, %v; want nothing to do", tc.prefix, out, err)
		}
	}
	left, _ := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	var names []string
	for _, p := range left.Parameters {
		names = append(names, aws.ToString(p.Name))
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "/clients/acmex/A acme-b.A acme2.A" {
		t.Errorf("left %v; want the other clients' parameters, all of them", names)
	}
}

func joinAny(v any) string {
	var parts []string
	for _, e := range v.([]any) {
		parts = append(parts, e.(string))
	}
	return strings.Join(parts, " ")
}

func TestRoute53GetAndDelete(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "r53-delete"})
	ctx := s.ctx
	vpc := launchT(t, ctx, "acme", nil)["vpc_id"].(string)
	zone, err := runStepT(t, ctx, "route53.zone", map[string]any{"name": "local.", "vpc": vpc})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := zone["zone_id"].(string)
	upsert := func(name, ip string) {
		t.Helper()
		if _, err := runStepT(t, ctx, "route53.upsert", map[string]any{"zone_id": zoneID, "name": name, "values": []any{ip}}); err != nil {
			t.Fatal(err)
		}
	}
	upsert("acme", "10.0.0.1")
	upsert("beta", "10.0.0.2")

	got, err := runStepT(t, ctx, "route53.get", map[string]any{"zone": "local.", "private": true, "name": "acme"})
	if err != nil || got["exists"] != true || joinAny(got["values"]) != "10.0.0.1" || got["ttl"] != 300 {
		t.Fatalf("route53.get: %v, %v", got, err)
	}
	if got, err := runStepT(t, ctx, "route53.get", map[string]any{"zone_id": zoneID, "name": "nobody"}); err != nil || got["exists"] != false {
		t.Errorf("route53.get of no record: %v, %v", got, err)
	}

	out, err := runStepT(t, ctx, "route53.delete", map[string]any{"zone_id": zoneID, "name": "beta", "values": []any{"10.0.0.9"}})
	if err != nil || out["deleted"] != false || !strings.Contains(out["reason"].(string), "points at 10.0.0.2") {
		t.Errorf("delete of a record that points elsewhere: %v, %v; want left alone", out, err)
	}
	out, err = runStepT(t, ctx, "route53.delete", map[string]any{"zone_id": zoneID, "name": "acme", "values": []any{"10.0.0.1", "10.0.0.7"}})
	if err != nil || out["deleted"] != true {
		t.Fatalf("route53.delete: %v, %v", out, err)
	}
	out, err = runStepT(t, ctx, "route53.delete", map[string]any{"zone_id": zoneID, "name": "acme", "values": []any{"10.0.0.1"}})
	if err != nil || out["deleted"] != false || out["reason"] != "no A record acme.local." {
		t.Errorf("route53.delete again: %v, %v; want a no-op", out, err)
	}
	if got, _ := runStepT(t, ctx, "route53.get", map[string]any{"zone_id": zoneID, "name": "beta"}); got["exists"] != true {
		t.Errorf("beta.local. is gone: another client's record was deleted")
	}
	if _, err := s.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestEC2RunListTags: a list longer than one tag is spread over numbered tags at launch (only
// those it needs), read back whole by imds.get's lists in one wave of reads, and a re-run with a
// shorter list empties the tags it no longer needs; a list past the tags' capacity is refused.
func TestEC2RunListTags(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "list-tags"})
	names := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("SETTING_NUMBER_%02d", i)
		}
		return strings.Join(out, ",")
	}
	run := func(items string) (map[string]any, error) {
		return runStepT(t, s.ctx, "ec2.run", map[string]any{
			"image": "ami-0639efad2af438260", "tags": map[string]any{"ClientId": "acme"},
			"config_tags": map[string]any{"flow:zone": "local."},
			"list_tags":   map[string]any{"flow:required": items},
		})
	}
	first, err := run(names(60))
	if err != nil {
		t.Fatal(err)
	}
	id := first["instance_id"].(string)
	tags := tagMap(s.instance(t, id).Tags)
	// 18 characters a name with its comma: 14 names a tag, so 60 take 5 tags.
	for _, k := range listTagKeys("flow:required") {
		if n := len(strings.Split(tags[k], ",")); tags[k] == "" || len([]rune(tags[k])) > ec2MaxTagValue || k != "flow:required-5" && n != 14 {
			t.Errorf("tag %s holds %d names (%d characters): %q", k, n, len([]rune(tags[k])), tags[k])
		}
	}
	if got := strings.Join(gatherList("flow:required", tags), ","); got != names(60) {
		t.Errorf("gathered %v; want the 60 names in order", got)
	}

	// Read back on the instance: every tag of both lists by name, at once with the identity (6 paths).
	b := &imdsBarrier{next: s.emu.Transport(), n: 6 + 2*listTagParts, all: make(chan struct{})}
	s.aws.IMDS = append(s.aws.IMDS, func(o *imds.Options) { o.HTTPClient = &http.Client{Transport: b} })
	meta, err := runStepT(t, s.ctx, "imds.get", map[string]any{"lists": []any{"flow:required", "flow:other"}})
	if err != nil {
		t.Fatal(err)
	}
	lists := meta["lists"].(map[string]any)
	if l := lists["flow:required"].([]any); len(l) != 60 || l[0] != "SETTING_NUMBER_00" || l[59] != "SETTING_NUMBER_59" {
		t.Errorf("imds.get lists flow:required = %v", l)
	}
	if l := lists["flow:other"].([]any); len(l) != 0 {
		t.Errorf("a list the instance does not have: %v; want empty", l)
	}

	// Fewer names: the same instance, the tags no longer needed emptied, one CreateTags.
	creates := s.calls.get("CreateTags")
	again, err := run(names(20))
	if err != nil || again["instance_id"] != id || again["tags_changed"] != true || s.calls.get("CreateTags") != creates+1 {
		t.Fatalf("a shorter list: %v, %v, CreateTags %d -> %d", again, err, creates, s.calls.get("CreateTags"))
	}
	tags = tagMap(s.instance(t, id).Tags)
	if got := gatherList("flow:required", tags); len(got) != 20 || tags["flow:required-3"] != "" || tags["flow:required-5"] != "" {
		t.Errorf("after a shorter list: %v, tags %v", got, tags)
	}
	if out, err := run(names(20)); err != nil || out["tags_changed"] != false || s.calls.get("CreateTags") != creates+1 {
		t.Errorf("the same list again: %v, %v; want no CreateTags", out, err)
	}

	// An instance launched with a short list has only the tags it needs.
	short, err := runStepT(t, s.ctx, "ec2.run", map[string]any{"image": "ami-0639efad2af438260",
		"tags": map[string]any{"ClientId": "beta"}, "list_tags": map[string]any{"flow:required": "A,B"}})
	if err != nil {
		t.Fatal(err)
	}
	tags = tagMap(s.instance(t, short["instance_id"].(string)).Tags)
	if _, has := tags["flow:required-2"]; has || tags["flow:required"] != "A,B" {
		t.Errorf("a short list's tags: %v", tags)
	}

	for _, c := range []struct {
		items string
		want  string
	}{
		{names(72), "the list flow:required, 72 items and 1295 characters with their commas, does not fit in its 5 tags (flow:required to flow:required-5"},
		{"A,,B", "the list flow:required: item 1 is empty"},
		{strings.Repeat("X", 257), "more than a tag's value holds (256, EC2's limit)"},
	} {
		if _, err := run(c.items); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("list %.40v: %v; want an error with %q", c.items, err, c.want)
		}
	}
	if _, err := runStepT(t, s.ctx, "ec2.run", map[string]any{"image": "ami-0639efad2af438260",
		"config_tags": map[string]any{"flow:required-2": "x"}, "list_tags": map[string]any{"flow:required": "A"}}); err == nil ||
		!strings.Contains(err.Error(), "flow:required-2, one of the tags the list flow:required is spread over") {
		t.Errorf("a config tag that is one of a list's: %v", err)
	}
}

// TestEC2RunSecretListTags: the tags of a list that holds a secret are secret too, each of them,
// even where the secret in it is too short to be masked inside other text.
func TestEC2RunSecretListTags(t *testing.T) {
	list := strings.Repeat("NAME_OF_A_SETTING,", 20) + "PW"
	m := new(engine.Masker)
	m.Add(list)
	m.Add("PW")
	rt := engine.NewRuntime("test", "launch", "", m)
	s := &ec2Run{ListTags: map[string]string{"flow:required": list, "flow:plain": "A,B"}}
	s.secretLists(rt)
	spread, err := spreadList("flow:required", list)
	if err != nil {
		t.Fatal(err)
	}
	for k, part := range spread {
		if part != "" && m.Mask(part) != engine.Mask {
			t.Errorf("tag %s of a secret list prints as %q", k, m.Mask(part))
		}
	}
	if m.Mask("A,B") != "A,B" {
		t.Errorf("a list with no secret is masked: %q", m.Mask("A,B"))
	}
}
