package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

func (c *cli) localCommand() *cobra.Command {
	var f emulatorFlags
	var output string
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Show what the embedded emulator holds after local runs",
		Long: `Show what the embedded emulator holds in --local-dir: its instances, parameters (SecureString
values masked), hosted zones and their records, and the files local runs wrote under each
instance's folder. It reads through the same AWS APIs a workflow uses.

Each instance shows the address that answers instance metadata as it while flow emulate
serves the directory (imds_endpoint). -o json prints the same as one JSON document.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return invalid(fmt.Errorf("-o %s: the output format is text or json", output), nil)
			}
			if !exists(f.dir) {
				if output == "json" {
					return writeIndentedJSON(c.stdout, (&localState{Dir: f.dir}).orEmpty())
				}
				fmt.Fprintf(c.stdout, "no emulator state in %s yet: flow run --local or flow emulate creates it\n", f.dir)
				return nil
			}
			e, err := f.open()
			if err != nil {
				return err
			}
			defer e.Close()
			cfg, err := steps.LocalAWS(e.Transport(), e.Region()).Load(cmd.Context())
			if err != nil {
				return err
			}
			st, err := readLocal(cmd.Context(), cfg, f.dir)
			if err != nil {
				return err
			}
			endpoints, err := e.InstanceEndpoints(cmd.Context())
			if err != nil {
				return err
			}
			for i := range st.Instances {
				st.Instances[i].IMDSEndpoint = endpoints[st.Instances[i].ID]
			}
			if output == "json" {
				return writeIndentedJSON(c.stdout, st.orEmpty())
			}
			c.showLocal(st)
			return nil
		},
	}
	f.registerState(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text or json")
	return cmd
}

// orEmpty returns st with empty lists rather than none, so that its JSON has [] for them.
func (st *localState) orEmpty() *localState {
	st.Instances = orEmptyList(st.Instances)
	st.Parameters = orEmptyList(st.Parameters)
	st.Zones = orEmptyList(st.Zones)
	st.Files = orEmptyList(st.Files)
	return st
}

func orEmptyList[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// writeIndentedJSON writes v as one indented JSON document.
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// localState is what `flow local` shows: what the emulator holds, read through the AWS APIs, and
// the files local runs wrote.
// Its JSON form is what `flow local -o json` prints.
type localState struct {
	Dir        string           `json:"dir"`
	Region     string           `json:"region,omitempty"`
	Instances  []localInstance  `json:"instances"`
	Parameters []localParameter `json:"parameters"`
	Zones      []localZone      `json:"hosted_zones"`
	Files      []localFile      `json:"files"`
}

type localInstance struct {
	ID           string            `json:"id"`
	State        string            `json:"state"`
	PrivateIP    string            `json:"private_ip"` // "" once terminated
	Image        string            `json:"image_id"`
	Type         string            `json:"instance_type"`
	Tags         map[string]string `json:"tags"`
	IMDSEndpoint string            `json:"imds_endpoint"` // "" until flow emulate has opened its port
}

type localParameter struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Version int64  `json:"version"`
	Value   string `json:"value,omitempty"` // "" for a SecureString: never shown
}

type localZone struct {
	Name    string        `json:"name"`
	ID      string        `json:"id"`
	Private bool          `json:"private"`
	Records []localRecord `json:"records"` // without the zone's own NS and SOA
}

type localRecord struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TTL    int64    `json:"ttl"`
	Values []string `json:"values"`
}

type localFile struct {
	Path string      `json:"path"`
	Mode fs.FileMode `json:"mode"`
	Size int64       `json:"size"`
}

// readLocal gathers the emulator's state through cfg's clients, and the files under dir.
func readLocal(ctx context.Context, cfg aws.Config, dir string) (*localState, error) {
	st := &localState{Dir: dir, Region: cfg.Region}
	var err error
	if st.Instances, err = localInstances(ctx, ec2.NewFromConfig(cfg)); err != nil {
		return nil, err
	}
	if st.Parameters, err = localParameters(ctx, ssm.NewFromConfig(cfg)); err != nil {
		return nil, err
	}
	if st.Zones, err = localZones(ctx, route53.NewFromConfig(cfg)); err != nil {
		return nil, err
	}
	st.Files = localFiles(dir)
	return st, nil
}

func localInstances(ctx context.Context, c *ec2.Client) ([]localInstance, error) {
	var out []localInstance
	pages := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				tags := make(map[string]string, len(in.Tags))
				for _, t := range in.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				out = append(out, localInstance{ID: aws.ToString(in.InstanceId), State: string(in.State.Name),
					PrivateIP: aws.ToString(in.PrivateIpAddress), Image: aws.ToString(in.ImageId), Type: string(in.InstanceType), Tags: tags})
			}
		}
	}
	return out, nil
}

// localParameters reads every parameter with its value; a SecureString's value is not decrypted.
func localParameters(ctx context.Context, c *ssm.Client) ([]localParameter, error) {
	var names []string
	pages := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{MaxResults: aws.Int32(50)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	params, _, err := steps.GetParameters(ctx, c, names, false)
	if err != nil {
		return nil, err
	}
	out := make([]localParameter, 0, len(params))
	for _, p := range params {
		lp := localParameter{Name: aws.ToString(p.Name), Type: string(p.Type), Version: p.Version}
		if p.Type != ssmtypes.ParameterTypeSecureString {
			lp.Value = aws.ToString(p.Value)
		}
		out = append(out, lp)
	}
	return out, nil
}

func localZones(ctx context.Context, c *route53.Client) ([]localZone, error) {
	var out []localZone
	pages := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, z := range page.HostedZones {
			zone := localZone{Name: aws.ToString(z.Name), ID: strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"),
				Private: z.Config != nil && z.Config.PrivateZone}
			if zone.Records, err = localRecords(ctx, c, z.Id); err != nil {
				return nil, err
			}
			out = append(out, zone)
		}
	}
	return out, nil
}

func localRecords(ctx context.Context, c *route53.Client, zoneID *string) ([]localRecord, error) {
	out := []localRecord{}
	pages := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: zoneID})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, rr := range page.ResourceRecordSets {
			if rr.Type == r53types.RRTypeNs || rr.Type == r53types.RRTypeSoa {
				continue
			}
			var values []string
			for _, v := range rr.ResourceRecords {
				values = append(values, aws.ToString(v.Value))
			}
			out = append(out, localRecord{Name: aws.ToString(rr.Name), Type: string(rr.Type), TTL: aws.ToInt64(rr.TTL), Values: values})
		}
	}
	return out, nil
}

// localFiles lists the files local runs wrote: under each instance's folder and the host folder.
func localFiles(dir string) []localFile {
	var out []localFile
	for _, sub := range []string{"instances", "host"} {
		filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			out = append(out, localFile{Path: path, Mode: info.Mode().Perm(), Size: info.Size()})
			return nil
		})
	}
	return out
}

// showLocal prints st as text: one section a kind of resource, one line each, in columns.
func (c *cli) showLocal(st *localState) {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "emulator state in %s (region %s)\n", st.Dir, st.Region)
	section(w, "instances", st.Instances, func(in localInstance) {
		var tags []string
		for k, v := range in.Tags {
			tags = append(tags, k+"="+v)
		}
		sort.Strings(tags)
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.State, orDash(in.PrivateIP), in.Image, in.Type, orDash(in.IMDSEndpoint), strings.Join(tags, " "))
	})
	section(w, "parameters", st.Parameters, func(p localParameter) {
		value := p.Value
		if p.Type == string(ssmtypes.ParameterTypeSecureString) {
			value = "*** (SecureString)"
		}
		fmt.Fprintf(w, "  %s\t%s\tv%d\t%s\n", p.Name, p.Type, p.Version, value)
	})
	section(w, "hosted zones", st.Zones, func(z localZone) {
		kind := "public"
		if z.Private {
			kind = "private"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", z.Name, kind, z.ID)
		for _, rr := range z.Records {
			fmt.Fprintf(w, "    %s\t%s\t%d\t%s\n", rr.Name, rr.Type, rr.TTL, strings.Join(rr.Values, " "))
		}
	})
	section(w, "files written by local runs", st.Files, func(f localFile) {
		fmt.Fprintf(w, "  %s\t%#o\t%d bytes\n", f.Path, f.Mode, f.Size)
	})
}

// section prints a heading, then each item, or "(none)".
func section[T any](w io.Writer, heading string, items []T, line func(T)) {
	fmt.Fprintf(w, "\n%s:\n", heading)
	if len(items) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, it := range items {
		line(it)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
