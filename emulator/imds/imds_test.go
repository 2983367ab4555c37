package imds

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2imds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

var ctx = context.Background()

// The emulated EC2 is what instance metadata reads.
var _ Instances = (*ec2.Service)(nil)

// fakeEC2 is the emulated EC2 as the tests need it: instances by id, the latest running one
// chosen by launch time.
type fakeEC2 struct {
	instances []ec2.InstanceView
	err       error
}

func (f *fakeEC2) Instance(_ context.Context, id string) (ec2.InstanceView, bool, error) {
	for _, v := range f.instances {
		if v.ID == id {
			return v, true, f.err
		}
	}
	return ec2.InstanceView{}, false, f.err
}

func (f *fakeEC2) LatestRunning(context.Context) (ec2.InstanceView, bool, error) {
	var latest ec2.InstanceView
	found := false
	for _, v := range f.instances {
		if v.State == "running" && (!found || v.LaunchTime.After(latest.LaunchTime)) {
			latest, found = v, true
		}
	}
	return latest, found, f.err
}

var launch = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func acme() ec2.InstanceView {
	return ec2.InstanceView{
		ID:               "i-0abc1234def567890",
		ImageID:          "ami-0123456789abcdef0",
		InstanceType:     "t3.micro",
		State:            "running",
		PrivateIP:        "10.0.1.23",
		PrivateDNSName:   "ip-10-0-1-23.ap-northeast-1.compute.internal",
		AvailabilityZone: "ap-northeast-1a",
		Region:           "ap-northeast-1",
		SubnetID:         "subnet-1",
		VpcID:            "vpc-1",
		LaunchTime:       launch,
		Tags:             []ec2.Tag{{Key: "ClientId", Value: "acme"}, {Key: "Name", Value: "acme server"}},
		MetadataTags:     true,
		MetadataEndpoint: true,
		UserData:         []byte("#!/bin/sh\n/opt/boot.sh\n"),
		ReservationID:    "r-0fedcba9876543210",
		AccountID:        "210987654321",
		Architecture:     "x86_64",
		MAC:              "0e:1a:2b:3c:4d:5e",
		SecurityGroups:   []string{"default", "app"},
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func serve(t *testing.T, opts Options) (*Service, string) {
	t.Helper()
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, srv.URL
}

func sdkClient(url string) *ec2imds.Client {
	return ec2imds.New(ec2imds.Options{Endpoint: url, EnableFallback: aws.FalseTernary, Retryer: aws.NopRetryer{}})
}

func metadataOf(t *testing.T, c *ec2imds.Client, path string) string {
	t.Helper()
	out, err := c.GetMetadata(ctx, &ec2imds.GetMetadataInput{Path: path})
	if err != nil {
		t.Fatalf("GetMetadata %s: %v", path, err)
	}
	defer out.Content.Close()
	b, _ := io.ReadAll(out.Content)
	return string(b)
}

func sdkStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestThroughTheSDK(t *testing.T) {
	other := acme()
	other.ID, other.LaunchTime, other.PrivateIP = "i-0older", launch.Add(-time.Hour), "10.0.1.99"
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{other, acme()}}})
	c := sdkClient(url)

	for path, want := range map[string]string{
		"instance-id":                 "i-0abc1234def567890",
		"local-ipv4":                  "10.0.1.23",
		"local-hostname":              "ip-10-0-1-23.ap-northeast-1.compute.internal",
		"hostname":                    "ip-10-0-1-23.ap-northeast-1.compute.internal",
		"ami-id":                      "ami-0123456789abcdef0",
		"instance-type":               "t3.micro",
		"placement/region":            "ap-northeast-1",
		"placement/availability-zone": "ap-northeast-1a",
		"tags/instance":               "ClientId\nName",
		"tags/instance/ClientId":      "acme",
		"tags/instance/Name":          "acme server",
		"": "ami-id\nami-launch-index\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\n" +
			"placement/\nreservation-id\nsecurity-groups\ntags/",
		"ami-launch-index": "0",
		"mac":              "0e:1a:2b:3c:4d:5e",
		"reservation-id":   "r-0fedcba9876543210",
		"security-groups":  "default\napp",
		"placement":        "availability-zone\nregion",
	} {
		if got := metadataOf(t, c, path); got != want {
			t.Errorf("meta-data/%s = %q, want %q", path, got, want)
		}
	}

	ud, err := c.GetUserData(ctx, &ec2imds.GetUserDataInput{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(ud.Content)
	if string(b) != "#!/bin/sh\n/opt/boot.sh\n" {
		t.Errorf("user-data %q", b)
	}

	region, err := c.GetRegion(ctx, &ec2imds.GetRegionInput{})
	if err != nil || region.Region != "ap-northeast-1" {
		t.Errorf("GetRegion %v %v", region, err)
	}

	doc, err := c.GetInstanceIdentityDocument(ctx, &ec2imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatal(err)
	}
	d := doc.InstanceIdentityDocument
	if d.InstanceID != "i-0abc1234def567890" || d.Region != "ap-northeast-1" || d.AvailabilityZone != "ap-northeast-1a" ||
		d.PrivateIP != "10.0.1.23" || d.ImageID != "ami-0123456789abcdef0" || d.InstanceType != "t3.micro" ||
		d.AccountID != "210987654321" || d.Architecture != "x86_64" || !d.PendingTime.Equal(launch) || d.Version != "2017-09-30" {
		t.Errorf("identity document %+v", d)
	}

	_, err = c.GetMetadata(ctx, &ec2imds.GetMetadataInput{Path: "tags/instance/Nope"})
	if sdkStatus(err) != 404 {
		t.Errorf("unknown tag: %v", err)
	}
	// No instance profile: no iam/ category.
	if _, err := c.GetIAMInfo(ctx, &ec2imds.GetIAMInfoInput{}); sdkStatus(err) != 404 {
		t.Errorf("GetIAMInfo without a profile: %v", err)
	}
}

func TestInstanceProfileAndDefaults(t *testing.T) {
	v := acme()
	v.IAMInstanceProfileARN, v.IAMInstanceProfileID = "arn:aws:iam::210987654321:instance-profile/flow-app", "AIPAEXAMPLEID1234567"
	v.AccountID, v.Architecture, v.InstanceType = "", "arm64", "t4g.small"
	v.MAC, v.ReservationID, v.SecurityGroups = "", "", nil
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{v}}, AccountID: "111122223333"})
	c := sdkClient(url)
	info, err := c.GetIAMInfo(ctx, &ec2imds.GetIAMInfoInput{})
	if err != nil {
		t.Fatal(err)
	}
	if info.IAMInfo.InstanceProfileArn != v.IAMInstanceProfileARN || info.IAMInfo.InstanceProfileID != v.IAMInstanceProfileID ||
		info.IAMInfo.Code != "Success" || !info.IAMInfo.LastUpdated.Equal(launch) {
		t.Errorf("iam info %+v", info.IAMInfo)
	}
	if got := metadataOf(t, c, ""); got != "ami-id\nami-launch-index\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\ntags/" {
		t.Errorf("listing %q", got)
	}
	doc, err := c.GetInstanceIdentityDocument(ctx, &ec2imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.AccountID != "111122223333" || doc.Architecture != "arm64" {
		t.Errorf("defaults: account %s architecture %s", doc.AccountID, doc.Architecture)
	}
}

func TestMetadataEndpointDisabled(t *testing.T) {
	fake := &fakeEC2{instances: []ec2.InstanceView{acme()}}
	_, url := serve(t, Options{Instances: fake})
	tok := token(t, url, "60") // taken while the endpoint was enabled
	fake.instances[0].MetadataEndpoint = false
	if status, _, _ := get(t, http.MethodPut, url+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}); status != 403 {
		t.Errorf("token from a disabled endpoint: %d, want 403", status)
	}
	if status, _, _ := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); status != 403 {
		t.Errorf("GET from a disabled endpoint: %d, want 403", status)
	}
}

// get sends a raw request and returns the status, body and headers.
func get(t *testing.T, method, url string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func token(t *testing.T, url string, ttl string) string {
	t.Helper()
	status, body, h := get(t, http.MethodPut, url+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": ttl})
	if status != 200 || body == "" || h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != ttl {
		t.Fatalf("token: %d %q %v", status, body, h)
	}
	return body
}

func TestIMDSv1IsRefused(t *testing.T) {
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}}})
	status, body, h := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", nil)
	if status != 401 || !strings.Contains(body, "<title>401 - Unauthorized</title>") || h.Get("Content-Type") != "text/html" {
		t.Errorf("GET without a token: %d %s", status, body)
	}
	for _, bad := range []string{"not-a-token", "AAAA", strings.Repeat("A", 56)} {
		if status, _, _ := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": bad}); status != 401 {
			t.Errorf("token %q: %d", bad, status)
		}
	}
	// A token of another IMDS (another key) is not valid here.
	_, otherURL := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}}})
	foreign := token(t, otherURL, "60")
	if status, _, _ := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": foreign}); status != 401 {
		t.Errorf("foreign token: %d", status)
	}
	// GET on the token path and POST anywhere are not allowed.
	if status, _, _ := get(t, http.MethodGet, url+"/latest/api/token", nil); status != 405 {
		t.Errorf("GET token: %d", status)
	}
	if status, _, _ := get(t, http.MethodPost, url+"/latest/meta-data/", nil); status != 405 {
		t.Errorf("POST meta-data: %d", status)
	}
}

func TestTokenTTLBounds(t *testing.T) {
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}}})
	for _, ttl := range []string{"", "0", "21601", "-5", "abc", "1.5"} {
		h := map[string]string{}
		if ttl != "" {
			h["X-aws-ec2-metadata-token-ttl-seconds"] = ttl
		}
		if status, _, _ := get(t, http.MethodPut, url+"/latest/api/token", h); status != 400 {
			t.Errorf("TTL %q: %d, want 400", ttl, status)
		}
	}
	for _, ttl := range []string{"1", "21600"} {
		tok := token(t, url, ttl)
		status, body, h := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok})
		if status != 200 || body != "i-0abc1234def567890" || h.Get("Content-Type") != "text/plain" {
			t.Errorf("with a %ss token: %d %q %v", ttl, status, body, h)
		}
	}
	// A PUT that came through a proxy is refused.
	status, _, _ := get(t, http.MethodPut, url+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "203.0.113.7"})
	if status != 403 {
		t.Errorf("PUT with X-Forwarded-For: %d, want 403", status)
	}
	// So is one that carries the header empty: it is the header's presence that tells a proxy.
	status, _, _ = get(t, http.MethodPut, url+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": ""})
	if status != 403 {
		t.Errorf("PUT with an empty X-Forwarded-For: %d, want 403", status)
	}
}

func TestTokenExpiry(t *testing.T) {
	clk := &clock{t: launch}
	_, url := serve(t, Options{Clock: clk.now, Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}}})
	tok := token(t, url, "60")
	read := func() (int, http.Header) {
		status, _, h := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok})
		return status, h
	}
	clk.t = launch.Add(59 * time.Second)
	if status, h := read(); status != 200 || h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "1" {
		t.Errorf("just before expiry: %d, TTL left %s", status, h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
	}
	clk.t = launch.Add(60 * time.Second)
	if status, _ := read(); status != 401 {
		t.Errorf("at expiry: %d, want 401", status)
	}
}

func TestTagsOnlyWhenAllowed(t *testing.T) {
	v := acme()
	v.MetadataTags = false
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{v}}})
	tok := token(t, url, "60")
	h := map[string]string{"X-aws-ec2-metadata-token": tok}
	for _, path := range []string{"tags", "tags/", "tags/instance", "tags/instance/ClientId"} {
		if status, _, _ := get(t, http.MethodGet, url+"/latest/meta-data/"+path, h); status != 404 {
			t.Errorf("%s with metadata tags off: %d, want 404", path, status)
		}
	}
	if _, body, _ := get(t, http.MethodGet, url+"/latest/meta-data/", h); strings.Contains(body, "tags") {
		t.Errorf("listing offers tags: %q", body)
	}
}

func TestUserDataAndBodies(t *testing.T) {
	v := acme()
	v.UserData = nil
	_, url := serve(t, Options{Instances: &fakeEC2{instances: []ec2.InstanceView{v}}})
	h := map[string]string{"X-aws-ec2-metadata-token": token(t, url, "60")}
	if status, body, _ := get(t, http.MethodGet, url+"/latest/user-data", h); status != 404 || !strings.Contains(body, "404 - Not Found") {
		t.Errorf("user-data of an instance without: %d %q", status, body)
	}
	if _, body, _ := get(t, http.MethodGet, url+"/latest/", h); body != "dynamic\nmeta-data" {
		t.Errorf("/latest/ = %q", body)
	}
	_, body, _ := get(t, http.MethodGet, url+"/latest/dynamic/instance-identity/document", h)
	want := `{
  "accountId" : "210987654321",
  "architecture" : "x86_64",
  "availabilityZone" : "ap-northeast-1a",
  "billingProducts" : null,
  "devpayProductCodes" : null,
  "marketplaceProductCodes" : null,
  "imageId" : "ami-0123456789abcdef0",
  "instanceId" : "i-0abc1234def567890",
  "instanceType" : "t3.micro",
  "kernelId" : null,
  "pendingTime" : "2026-03-01T09:30:00Z",
  "privateIp" : "10.0.1.23",
  "ramdiskId" : null,
  "region" : "ap-northeast-1",
  "version" : "2017-09-30"
}`
	if body != want {
		t.Errorf("identity document\n%s\nwant\n%s", body, want)
	}
	if status, _, _ := get(t, http.MethodGet, url+"/latest/meta-data/iam/info", h); status != 404 {
		t.Errorf("unknown path: %d", status)
	}
}

func TestWhichInstance(t *testing.T) {
	older, stopped := acme(), acme()
	older.ID, older.LaunchTime = "i-0older", launch.Add(-time.Hour)
	stopped.ID, stopped.State, stopped.LaunchTime = "i-0stopped", "stopped", launch.Add(time.Hour)
	fake := &fakeEC2{instances: []ec2.InstanceView{older, acme(), stopped}}

	read := func(opts Options) (int, string) {
		_, url := serve(t, opts)
		status, body, _ := get(t, http.MethodGet, url+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": token(t, url, "60")})
		return status, body
	}
	if status, body := read(Options{Instances: fake}); status != 200 || body != "i-0abc1234def567890" {
		t.Errorf("latest running: %d %q", status, body)
	}
	if status, body := read(Options{Instances: fake, Instance: "i-0older"}); status != 200 || body != "i-0older" {
		t.Errorf("chosen instance: %d %q", status, body)
	}
	if status, body := read(Options{Instances: fake, Instance: "i-0stopped"}); status != 404 || !strings.Contains(body, "i-0stopped is stopped, not running") {
		t.Errorf("stopped instance: %d %q", status, body)
	}
	if status, body := read(Options{Instances: fake, Instance: "i-0gone"}); status != 404 || !strings.Contains(body, "i-0gone") {
		t.Errorf("unknown instance: %d %q", status, body)
	}
	status, body := read(Options{Instances: &fakeEC2{instances: []ec2.InstanceView{stopped}}})
	if status != 404 || !strings.Contains(body, "no instance is running in the emulator") || !strings.Contains(body, "--instance ID") {
		t.Errorf("no running instance: %d %q", status, body)
	}
	// The SDK sees that 404 too, and the region lookup fails with it.
	_, url := serve(t, Options{Instances: &fakeEC2{}})
	_, err := sdkClient(url).GetRegion(ctx, &ec2imds.GetRegionInput{})
	if sdkStatus(err) != 404 {
		t.Errorf("GetRegion with no instance: %v", err)
	}
	// A failing EC2 is a 500 that says so.
	status, body = read(Options{Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}, err: errors.New("state file is not valid")}})
	if status != 500 || !strings.Contains(body, "state file is not valid") {
		t.Errorf("failing EC2: %d %q", status, body)
	}
}

func TestWriteFault(t *testing.T) {
	svc, err := New(Options{Instances: &fakeEC2{instances: []ec2.InstanceView{acme()}}})
	if err != nil {
		t.Fatal(err)
	}
	var fault wire.Fault
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			svc.ServeHTTP(w, r)
			return
		}
		svc.WriteFault(w, r, fault)
	}))
	defer srv.Close()
	c := sdkClient(srv.URL)
	fault = wire.Throttle
	_, err = c.GetMetadata(ctx, &ec2imds.GetMetadataInput{Path: "instance-id"})
	if sdkStatus(err) != 429 {
		t.Errorf("throttle: %v", err)
	}
	fault = wire.ServerError
	_, err = c.GetMetadata(ctx, &ec2imds.GetMetadataInput{Path: "instance-id"})
	if sdkStatus(err) != 500 {
		t.Errorf("server error: %v", err)
	}
}

func TestNewNeedsInstances(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without Instances succeeded")
	}
}
