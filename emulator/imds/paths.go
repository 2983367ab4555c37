package imds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/ec2"
)

// metadata is what one instance's metadata is made of.
type metadata struct {
	view      ec2.InstanceView
	region    string
	accountID string
}

// answer returns the body and content type at path for the instance, or 404 as IMDS answers it.
// Bodies are exact: no trailing newline, listings one entry a line in alphabetical order,
// sub-directories with a trailing slash.
func answer(md metadata, path string) ([]byte, string, error) {
	const text = "text/plain"
	v := md.view
	p := strings.TrimSuffix(path, "/")
	switch p {
	case "/latest":
		entries := []string{"dynamic", "meta-data"}
		if v.UserData != nil {
			entries = append(entries, "user-data")
		}
		return listing(entries), text, nil
	case "/latest/meta-data":
		return listing(metadataEntries(v)), text, nil
	case "/latest/meta-data/ami-id":
		return []byte(v.ImageID), text, nil
	case "/latest/meta-data/ami-launch-index":
		return []byte(strconv.Itoa(v.LaunchIndex)), text, nil
	case "/latest/meta-data/instance-id":
		return []byte(v.ID), text, nil
	case "/latest/meta-data/instance-type":
		return []byte(v.InstanceType), text, nil
	case "/latest/meta-data/local-ipv4":
		return []byte(v.PrivateIP), text, nil
	case "/latest/meta-data/hostname", "/latest/meta-data/local-hostname":
		return []byte(v.PrivateDNSName), text, nil
	case "/latest/meta-data/placement":
		return listing([]string{"availability-zone", "region"}), text, nil
	case "/latest/meta-data/placement/availability-zone":
		return []byte(v.AvailabilityZone), text, nil
	case "/latest/meta-data/placement/region":
		return []byte(md.region), text, nil
	case "/latest/user-data":
		if v.UserData == nil {
			return nil, "", statusError(http.StatusNotFound)
		}
		return v.UserData, "application/octet-stream", nil
	case "/latest/dynamic":
		return listing([]string{"instance-identity/"}), text, nil
	case "/latest/dynamic/instance-identity":
		return listing([]string{"document"}), text, nil
	case "/latest/dynamic/instance-identity/document":
		return identityDocument(md), text, nil
	}
	switch {
	case p == "/latest/meta-data/mac" && v.MAC != "":
		return []byte(v.MAC), text, nil
	case p == "/latest/meta-data/reservation-id" && v.ReservationID != "":
		return []byte(v.ReservationID), text, nil
	case p == "/latest/meta-data/security-groups" && len(v.SecurityGroups) > 0:
		return listing(v.SecurityGroups), text, nil
	case p == "/latest/meta-data/iam" && v.IAMInstanceProfileARN != "":
		return listing([]string{"info"}), text, nil
	case p == "/latest/meta-data/iam/info" && v.IAMInstanceProfileARN != "":
		return iamInfo(v), text, nil
	}
	if tags, ok := strings.CutPrefix(p, "/latest/meta-data/tags"); ok && v.MetadataTags {
		return tagAnswer(v.Tags, tags)
	}
	return nil, "", statusError(http.StatusNotFound)
}

// metadataEntries lists /latest/meta-data/: the categories the emulator answers that the
// instance has.
func metadataEntries(v ec2.InstanceView) []string {
	entries := []string{"ami-id", "ami-launch-index", "hostname"}
	if v.IAMInstanceProfileARN != "" {
		entries = append(entries, "iam/")
	}
	entries = append(entries, "instance-id", "instance-type", "local-hostname", "local-ipv4")
	if v.MAC != "" {
		entries = append(entries, "mac")
	}
	entries = append(entries, "placement/")
	if v.ReservationID != "" {
		entries = append(entries, "reservation-id")
	}
	if len(v.SecurityGroups) > 0 {
		entries = append(entries, "security-groups")
	}
	if v.MetadataTags {
		entries = append(entries, "tags/")
	}
	return entries
}

// iamInfo is /latest/meta-data/iam/info, in IMDS's layout. The emulator hands out no role
// credentials: iam/security-credentials/ is a 404, as on an instance whose profile has no role.
func iamInfo(v ec2.InstanceView) []byte {
	return []byte(fmt.Sprintf("{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : %s,\n  \"InstanceProfileArn\" : %s,\n  \"InstanceProfileId\" : %s\n}",
		jsonString(v.LaunchTime.UTC().Format(time.RFC3339)), jsonString(v.IAMInstanceProfileARN), jsonString(v.IAMInstanceProfileID)))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// tagAnswer answers under /latest/meta-data/tags, which exists only when the instance allows
// metadata tags: rest is "", "/instance" or "/instance/KEY".
func tagAnswer(tags []ec2.Tag, rest string) ([]byte, string, error) {
	switch {
	case rest == "":
		return listing([]string{"instance"}), "text/plain", nil
	case rest == "/instance":
		keys := make([]string, len(tags))
		for i, t := range tags {
			keys[i] = t.Key
		}
		return listing(keys), "text/plain", nil
	}
	if key, ok := strings.CutPrefix(rest, "/instance/"); ok {
		if i := slices.IndexFunc(tags, func(t ec2.Tag) bool { return t.Key == key }); i >= 0 {
			return []byte(tags[i].Value), "text/plain", nil
		}
	}
	return nil, "", statusError(http.StatusNotFound)
}

func listing(entries []string) []byte { return []byte(strings.Join(entries, "\n")) }

// identityDocument is the instance identity document, in the layout IMDS sends: keys in this
// order, " : " between key and value, two-space indent.
func identityDocument(md metadata) []byte {
	v := md.view
	str := jsonString
	pending := "null"
	if !v.LaunchTime.IsZero() {
		pending = str(v.LaunchTime.UTC().Format(time.RFC3339))
	}
	fields := [][2]string{
		{"accountId", str(md.accountID)},
		{"architecture", str(v.Architecture)},
		{"availabilityZone", str(v.AvailabilityZone)},
		{"billingProducts", "null"},
		{"devpayProductCodes", "null"},
		{"marketplaceProductCodes", "null"},
		{"imageId", str(v.ImageID)},
		{"instanceId", str(v.ID)},
		{"instanceType", str(v.InstanceType)},
		{"kernelId", "null"},
		{"pendingTime", pending},
		{"privateIp", str(v.PrivateIP)},
		{"ramdiskId", "null"},
		{"region", str(md.region)},
		{"version", str("2017-09-30")},
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		b.WriteString("  " + str(f[0]) + " : " + f[1])
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return []byte(b.String())
}
