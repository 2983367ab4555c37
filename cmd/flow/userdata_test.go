package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/flow-infra/flow/steps"
	"github.com/rogpeppe/go-internal/testscript"
	"go.yaml.in/yaml/v3"
)

// cmdUserDataBoot boots a client's instance the way cloud-init would: it finds the instance the
// client's tag names in the emulator of ./.flow, reads its user data (DescribeInstanceAttribute),
// takes the command of the per-boot script that user data writes, and runs it as flow on that
// instance: with --local --instance ID, so the instance's files are its folder in .flow, where
// the golden image's /etc/flow/boot.yaml is put first (a copy of workflows/boot.yaml). Extra
// arguments go after the command's own. It sets INSTANCE to the instance's id.
//
//	userdata-boot acme [-o json]
func cmdUserDataBoot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: userdata-boot CLIENT [flow flags...]")
	}
	id, script := userDataScript(ts, args[0])
	argv := bootCommand(ts, script)
	root := filepath.Join(".flow", "instances", id)
	image := filepath.Join(ts.MkAbs(root), "etc", "flow", "boot.yaml")
	ts.Check(os.MkdirAll(filepath.Dir(image), 0o755))
	ts.Check(os.WriteFile(image, []byte(ts.ReadFile("workflows/boot.yaml")), 0o644))
	run := []string{}
	for _, a := range argv[1:] {
		if path.IsAbs(a) { // a file on the instance: its folder stands for the instance's /
			a = filepath.Join(root, filepath.FromSlash(a))
		}
		run = append(run, a)
	}
	run = append(run, "--local", "--instance", id)
	run = append(run, args[1:]...)
	ts.Setenv("INSTANCE", id)
	ts.Logf("user data of %s runs: %s", id, strings.Join(argv, " "))
	err := ts.Exec("flow", run...)
	if neg != (err != nil) {
		if neg {
			ts.Fatalf("the boot command of %s succeeded", id)
		}
		ts.Fatalf("the boot command of %s: %v", id, err)
	}
}

// scriptAWS opens the local emulator in the script's .flow and returns an SDK configuration that
// calls it, and what closes it.
func scriptAWS(ts *testscript.TestScript) (aws.Config, func()) {
	f := emulatorFlags{dir: ts.MkAbs(".flow"), region: "us-east-1"}
	e, err := f.open()
	ts.Check(err)
	cfg, err := steps.LocalAWS(e.Transport(), e.Region()).Load(context.Background())
	if err != nil {
		e.Close()
		ts.Fatalf("%v", err)
	}
	return cfg, func() { e.Close() }
}

// userDataScript returns the id of the running instance tagged ClientId=client and the per-boot
// script its user data writes.
func userDataScript(ts *testscript.TestScript, client string) (string, string) {
	cfg, done := scriptAWS(ts)
	defer done()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:ClientId"), Values: []string{client}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	ts.Check(err)
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	if len(ids) != 1 {
		ts.Fatalf("client %s has %d running instances %v, want 1", client, len(ids), ids)
	}
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(ids[0]), Attribute: ec2types.InstanceAttributeNameUserData,
	})
	ts.Check(err)
	if attr.UserData == nil || attr.UserData.Value == nil {
		ts.Fatalf("instance %s has no user data", ids[0])
	}
	data, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
	ts.Check(err)
	var cloud struct {
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
	}
	if !strings.HasPrefix(string(data), "#cloud-config\n") {
		ts.Fatalf("the user data of %s is not #cloud-config:\n%s", ids[0], data)
	}
	ts.Check(yaml.Unmarshal(data, &cloud))
	for _, wf := range cloud.WriteFiles {
		if strings.HasPrefix(wf.Path, "/var/lib/cloud/scripts/per-boot/") {
			return ids[0], wf.Content
		}
	}
	ts.Fatalf("the user data of %s writes no per-boot script:\n%s", ids[0], data)
	return "", ""
}

// bootCommand returns the argv of the script's exec line, up to its redirections; the program
// must be flow.
func bootCommand(ts *testscript.TestScript, script string) []string {
	for _, line := range strings.Split(script, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "exec" {
			continue
		}
		argv := fields[1:]
		for i, f := range argv {
			if strings.ContainsAny(f[:1], "<>|&") || strings.HasPrefix(f, "2>") {
				argv = argv[:i]
				break
			}
			if strings.ContainsAny(f, `'"$\`) {
				ts.Fatalf("the boot command quotes or expands %q: this test runs plain words only", f)
			}
		}
		if path.Base(argv[0]) != "flow" {
			ts.Fatalf("the boot command runs %s, not flow", argv[0])
		}
		return argv
	}
	ts.Fatalf("no exec line in the per-boot script:\n%s", script)
	return nil
}

// cmdSameFile checks that a file is the one a earlier `samefile save` saw: same inode, same
// modification time (to the nanosecond), so nothing replaced or rewrote it:
//
//	samefile save app.env
//	samefile app.env      (! samefile app.env: it was replaced or written)
func cmdSameFile(ts *testscript.TestScript, neg bool, args []string) {
	save := len(args) == 2 && args[0] == "save"
	if len(args) != 1 && !save {
		ts.Fatalf("usage: samefile [save] FILE")
	}
	file := ts.MkAbs(args[len(args)-1])
	info, err := os.Stat(file)
	ts.Check(err)
	ino, ok := inode(info)
	if !ok {
		ts.Fatalf("samefile: no inode on this system")
	}
	id := fmt.Sprintf("inode %d mtime %d", ino, info.ModTime().UnixNano())
	key := "SAMEFILE_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, args[len(args)-1])
	if save {
		ts.Setenv(key, id)
		return
	}
	was := ts.Getenv(key)
	if was == "" {
		ts.Fatalf("samefile: run samefile save %s first", args[0])
	}
	if same := was == id; same == neg {
		if neg {
			ts.Fatalf("%s is unchanged: %s", args[0], id)
		}
		ts.Fatalf("%s was replaced or rewritten: %s, then %s", args[0], was, id)
	}
}
