package main

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/spf13/cobra"
)

func (c *cli) localCommand() *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Show what the embedded emulator holds after local runs",
		Long: `Show what the embedded emulator holds in --local-dir: its instances, parameters (SecureString
values masked), hosted zones and their records, and the files local runs wrote under each
instance's folder. It reads through the same AWS APIs a workflow uses.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !exists(f.dir) {
				fmt.Fprintf(c.stdout, "no emulator state in %s yet: flow run --local or flow emulate creates it\n", f.dir)
				return nil
			}
			e, err := f.open()
			if err != nil {
				return err
			}
			defer e.Close()
			cfg, err := localAWS(e).Load(cmd.Context())
			if err != nil {
				return err
			}
			return c.showLocal(cmd.Context(), cfg, f.dir)
		},
	}
	f.registerState(cmd)
	return cmd
}

func (c *cli) showLocal(ctx context.Context, cfg aws.Config, dir string) error {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "emulator state in %s (region %s)\n", dir, cfg.Region)

	fmt.Fprintln(w, "\ninstances:")
	pages := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				var tags []string
				for _, t := range in.Tags {
					tags = append(tags, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
				}
				sort.Strings(tags)
				fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(in.InstanceId), in.State.Name,
					orDash(aws.ToString(in.PrivateIpAddress)), aws.ToString(in.ImageId), in.InstanceType, strings.Join(tags, " "))
				n++
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
	}

	fmt.Fprintln(w, "\nparameters:")
	client := ssm.NewFromConfig(cfg)
	params := ssm.NewDescribeParametersPaginator(client, &ssm.DescribeParametersInput{MaxResults: aws.Int32(50)})
	n = 0
	for params.HasMorePages() {
		page, err := params.NextPage(ctx)
		if err != nil {
			return err
		}
		var names []string
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
		for len(names) > 0 {
			batch := names[:min(10, len(names))]
			names = names[len(batch):]
			got, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
			if err != nil {
				return err
			}
			for _, p := range got.Parameters {
				value := aws.ToString(p.Value)
				if p.Type == "SecureString" {
					value = "*** (SecureString)"
				}
				fmt.Fprintf(w, "  %s\t%s\tv%d\t%s\n", aws.ToString(p.Name), p.Type, p.Version, value)
				n++
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
	}

	fmt.Fprintln(w, "\nhosted zones:")
	r53 := route53.NewFromConfig(cfg)
	zones := route53.NewListHostedZonesPaginator(r53, &route53.ListHostedZonesInput{})
	n = 0
	for zones.HasMorePages() {
		page, err := zones.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, z := range page.HostedZones {
			kind := "public"
			if z.Config != nil && z.Config.PrivateZone {
				kind = "private"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", aws.ToString(z.Name), kind, strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"))
			n++
			records := route53.NewListResourceRecordSetsPaginator(r53, &route53.ListResourceRecordSetsInput{HostedZoneId: z.Id})
			for records.HasMorePages() {
				rp, err := records.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, rr := range rp.ResourceRecordSets {
					if rr.Type == "NS" || rr.Type == "SOA" {
						continue
					}
					var values []string
					for _, v := range rr.ResourceRecords {
						values = append(values, aws.ToString(v.Value))
					}
					fmt.Fprintf(w, "    %s\t%s\t%d\t%s\n", aws.ToString(rr.Name), rr.Type, aws.ToInt64(rr.TTL), strings.Join(values, " "))
				}
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
	}

	fmt.Fprintln(w, "\nfiles written by local runs:")
	n = 0
	for _, sub := range []string{"instances", "host"} {
		root := filepath.Join(dir, sub)
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			fmt.Fprintf(w, "  %s\t%#o\t%d bytes\n", path, info.Mode().Perm(), info.Size())
			n++
			return nil
		})
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
