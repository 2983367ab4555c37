package steps

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/flow-infra/flow/emulator"
)

// BenchmarkFleetBoot boots a fleet at once against one emulator that enforces AWS's per-account
// request rates (emulator.AWSLimits, as `flow emulate --limits aws`), and reports how long the
// fleet took to converge and what it asked of AWS. FLOW_BENCH_FLEET instances (default 60) are
// provisioned with workflows/provision.yaml (10 settings each, 2 of them SecureString; without
// limits, and not timed); then all of them run workflows/boot.yaml at the same moment, a first
// boot (the DNS record is new), each as its own instance: its instance metadata comes from the
// port the emulator serves for it (what AWS_EC2_METADATA_SERVICE_ENDPOINT gives a flow process),
// its AWS calls go over loopback HTTP through an SDK configuration and connections of its own,
// retried as flow's are (adaptive mode, 10 attempts; AWS_RETRY_MODE and AWS_MAX_ATTEMPTS win).
// It fails unless every boot succeeds and every client's A record holds its own instance's
// private IP. Run it with:
//
//	FLOW_BENCH_FLEET=1000 go test ./steps -run '^$' -bench FleetBoot -benchtime 1x -timeout 1h
//
// With FLOW_BENCH_REBOOT=1 the fleet boots twice, and what is measured and reported is the second
// time: a fleet rebooting at once (a patch window), every boot a later boot that finds its env
// file and its record already right. The first boots run as above, untimed.
//
// Reported, per fleet: s-to-converge, from the moment every boot starts to the last one's end;
// failures (0, or the benchmark fails); api-calls/boot (EC2, SSM and Route 53 requests,
// throttled ones included; instance metadata's are imds-calls/boot); throttled-calls; route53-calls
// and route53-accepted (those not throttled); and route53-floor-s, the least time Route 53's
// request rate allows for the accepted calls: every request of the account takes a token from a
// bucket of 50 that refills at 10 a second, and a throttled one takes none, so A accepted calls
// need at least (A - 50) / 10 seconds, however they are paced (record changes, one a boot, have a
// bucket of 1,000 that refills at 100 a second, and bind later).
//
// The emulator's memory is not reported: it shares this process and its heap with the boots
// (their SDK clients, connections and workflows), and Go cannot tell whose the bytes are.
// bench/fleet.sh, which runs `flow emulate` as a process of its own, reports its peak RSS.
func BenchmarkFleetBoot(b *testing.B) {
	n := 60
	if v := os.Getenv("FLOW_BENCH_FLEET"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("FLOW_BENCH_FLEET=%s: expected a number of instances, such as 1000", v)
		}
	}
	for range b.N {
		b.StopTimer()
		fleetBoot(b, n)
	}
}

// fleetBoot provisions n instances in a new state directory, boots them all at once against it
// under AWS's limits with the timer running, reports the figures and checks the records.
func fleetBoot(b *testing.B, n int) {
	ctx := context.Background()
	dir := b.TempDir()
	state := filepath.Join(dir, "state")

	e, err := emulator.New(emulator.Options{Dir: state, Seed: "fleet-bench"})
	if err != nil {
		b.Fatal(err)
	}
	local := LocalAWS(e.Transport(), e.Region())
	provision := func(i int) error {
		_, err := runWorkflow(ctx, local, "provision", filepath.Join(dir, "provision"), map[string]any{
			"client":        fmt.Sprintf("c%04d", i),
			"params":        map[string]any{"DB_HOST": "db.internal", "DB_PORT": "5432", "A": "1", "B": "2", "C": "3", "D": "4", "E": "5", "F": "6"},
			"secure_params": map[string]any{"DB_PASSWORD": "s3cret", "API_KEY": "k3y"},
		})
		return err
	}
	if err := inParallel(n, 4, provision); err != nil {
		b.Fatalf("provisioning: %v", err)
	}
	e.Close()

	// The fleet's emulator: AWS's limits, its APIs on one loopback address and each instance's
	// metadata on a port of its own, every request counted.
	e, err = emulator.New(emulator.Options{Dir: state, Seed: "fleet-bench", Limits: emulator.AWSLimits})
	if err != nil {
		b.Fatal(err)
	}
	calls := new(callCounter)
	srv := httptest.NewUnstartedServer(emulator.LogRequests(e, calls, nil))
	srv.Config.IdleTimeout = fleetIdleTimeout
	srv.Start()
	serving, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- e.ServeInstances(serving, emulator.InstanceServing{Host: "127.0.0.1", IdleTimeout: fleetIdleTimeout,
			Wrap: func(h http.Handler) http.Handler { return emulator.LogRequests(h, calls, nil) }})
	}()
	endpoints, err := instanceEndpoints(ctx, e, n)
	if err == nil {
		if os.Getenv("FLOW_BENCH_REBOOT") == "1" {
			err = fleetRun(b, srv.URL, endpoints, dir, calls, false)
			// A reboot comes long after the first boots: Route 53's bucket is full again, and
			// their connections are gone (their processes would have ended; here the servers'
			// idle timeout closes them).
			time.Sleep(fleetIdleTimeout + 5*time.Second)
		}
		if err == nil {
			err = fleetRun(b, srv.URL, endpoints, dir, calls, true)
		}
	}
	stopServing()
	<-served
	srv.Close()
	e.Close()
	if err != nil {
		b.Fatal(err)
	}

	// Every client's record points at its own instance (read without limits, so the check
	// adds nothing to the figures).
	e, err = emulator.New(emulator.Options{Dir: state, Seed: "fleet-bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := checkFleetRecords(ctx, LocalAWS(e.Transport(), e.Region()), n); err != nil {
		b.Fatal(err)
	}
}

// fleetRun boots every instance of endpoints (instance id -> its metadata URL) at the same
// moment against the emulator's APIs at url and logs the figures; when measured, with the
// benchmark's timer running, and reports them. An error says how many boots failed and why the
// first did.
func fleetRun(b *testing.B, url string, endpoints map[string]string, dir string, calls *callCounter, measured bool) error {
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []error
	)
	start := make(chan struct{})
	for id, endpoint := range endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, exit := fleetInstanceAWS(url, endpoint)
			<-start
			_, err := runWorkflow(ctx, a, "boot", filepath.Join(dir, "roots", id), nil)
			exit()
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Errorf("the boot of %s: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	calls.reset()
	began := time.Now()
	if measured {
		b.StartTimer()
	}
	close(start)
	wg.Wait()
	b.StopTimer()
	took := time.Since(began)

	n := float64(len(endpoints))
	c := calls.snapshot()
	accepted := c.route53 - c.route53Throttled
	floor := max(0, float64(accepted)-r53Burst) / r53Rate
	// Logged too: a benchmark that fails prints its log, not its metrics.
	b.Logf("%d boots at once (measured: %v): %d failed, %.1fs to converge; %.1f API calls a boot, %d throttled; Route 53: %d calls, %d accepted, floor %.1fs",
		len(endpoints), measured, len(failures), took.Seconds(), float64(c.api)/n, c.throttled, c.route53, accepted, floor)
	if !measured {
		if len(failures) > 0 {
			return fmt.Errorf("the first boots, before the measured ones: %d of %d failed; the first: %w", len(failures), len(endpoints), failures[0])
		}
		return nil
	}
	b.ReportMetric(took.Seconds(), "s-to-converge")
	b.ReportMetric(float64(len(failures)), "failures")
	b.ReportMetric(float64(c.api)/n, "api-calls/boot")
	b.ReportMetric(float64(c.imds)/n, "imds-calls/boot")
	b.ReportMetric(float64(c.throttled), "throttled-calls")
	b.ReportMetric(float64(c.route53), "route53-calls")
	b.ReportMetric(float64(accepted), "route53-accepted")
	b.ReportMetric(floor, "route53-floor-s")
	if len(failures) > 0 {
		for why, count := range failureCauses(failures) {
			b.Logf("%d boots: %s", count, why)
		}
		return fmt.Errorf("%d of %d boots failed; the first: %w", len(failures), len(endpoints), failures[0])
	}
	return nil
}

// ids are what differs between the failures of two boots for the same cause: instance, change
// and zone ids, client names.
var ids = regexp.MustCompile(`\bi-[0-9a-f]{8,17}\b|\bC[0-9A-Z]{20}\b|\bZ[0-9A-Z]{20}\b|\bc[0-9]{4}\b`)

// failureCauses counts the failures by their text with the ids taken out.
func failureCauses(failures []error) map[string]int {
	causes := map[string]int{}
	for _, err := range failures {
		causes[ids.ReplaceAllString(err.Error(), "…")]++
	}
	return causes
}

// fleetIdleTimeout is how long the fleet's emulator keeps an idle connection, as flow emulate does.
const fleetIdleTimeout = 15 * time.Second

// Route 53's request rate, per account: a burst of r53Burst, then r53Rate a second.
const (
	r53Burst = 50
	r53Rate  = 10
)

// fleetInstanceAWS returns the AWS of one instance of the fleet, as a flow process on it would
// have it: the APIs at url (AWS_ENDPOINT_URL), instance metadata at endpoint
// (AWS_EC2_METADATA_SERVICE_ENDPOINT), connections of its own, flow's default retries unless
// AWS_RETRY_MODE or AWS_MAX_ATTEMPTS say otherwise.
//
// One thing differs from a real instance: each instance metadata attempt may take 5 s to connect
// and 10 s to answer, where the SDK allows a quarter and half a second. A real instance's metadata
// service is its own and answers at once; here one process on a few cores answers for the whole
// fleet while serving its boots, and at a thousand boots starting in one instant, its answers
// take longer than the SDK's limits (every boot then failed its first read). The read's own limit,
// flow's 30 s, retries included, is kept.
//
// exit closes the instance's idle connections, as the end of a flow process does, and its
// instance metadata connections close a second after they are idle: a thousand boots in one
// process share its file descriptors (both ends of every connection, and a listener an
// instance), where a real fleet has a machine each; kept longer, they ran it out of them.
func fleetInstanceAWS(url, endpoint string) (a *AWS, exit func()) {
	api := awshttp.NewBuildableClient().GetTransport()
	md := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = 10 * time.Second
			// imds.get reads everything at once, then the boot asks no more: its connections
			// go as soon as they are idle, not with the boot.
			t.MaxIdleConnsPerHost, t.IdleConnTimeout = 1, time.Second
		}).
		GetTransport()
	a = &AWS{IMDS: []func(*imds.Options){func(o *imds.Options) {
		o.Endpoint = endpoint
		o.ClientEnableState = imds.ClientEnabled // whatever AWS_EC2_METADATA_DISABLED says here
		o.HTTPClient = &http.Client{Transport: md}
	}}}
	a.Load = func(context.Context) (aws.Config, error) {
		env, err := config.NewEnvConfig()
		if err != nil {
			return aws.Config{}, err
		}
		return a.Retry.Configure(aws.Config{
			Region:           "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
			HTTPClient:       &http.Client{Transport: api},
			BaseEndpoint:     aws.String(url),
			RetryMode:        env.RetryMode,
			RetryMaxAttempts: env.RetryMaxAttempts,
		}), nil
	}
	return a, func() {
		api.CloseIdleConnections()
		md.CloseIdleConnections()
	}
}

// instanceEndpoints waits, up to a minute, until e serves instance metadata for n instances,
// and returns their URLs by instance id.
func instanceEndpoints(ctx context.Context, e *emulator.Emulator, n int) (map[string]string, error) {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		urls, err := e.InstanceEndpoints(ctx)
		if err != nil {
			return nil, err
		}
		if len(urls) >= n {
			return urls, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("after a minute, %d of %d instances have their own metadata address", len(urls), n)
		}
	}
}

// checkFleetRecords checks that the n instances each have an A record, <ClientId tag>.<zone>,
// that holds the instance's private IP and nothing else.
func checkFleetRecords(ctx context.Context, a *AWS, n int) error {
	ctx = WithAWS(ctx, a)
	ec2c, err := ec2Client(ctx)
	if err != nil {
		return err
	}
	ips := map[string]string{} // by client
	for p := ec2.NewDescribeInstancesPaginator(ec2c, &ec2.DescribeInstancesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				for _, t := range in.Tags {
					if aws.ToString(t.Key) == "ClientId" {
						ips[aws.ToString(t.Value)] = aws.ToString(in.PrivateIpAddress)
					}
				}
			}
		}
	}
	if len(ips) != n {
		return fmt.Errorf("%d instances carry a ClientId tag, want %d", len(ips), n)
	}
	r53, err := route53Client(ctx)
	if err != nil {
		return err
	}
	records := map[string][]string{} // by client
	zones, err := r53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if err != nil {
		return err
	}
	for _, z := range zones.HostedZones {
		for p := route53.NewListResourceRecordSetsPaginator(r53, &route53.ListResourceRecordSetsInput{HostedZoneId: z.Id}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, rr := range page.ResourceRecordSets {
				if rr.Type != "A" {
					continue
				}
				client := strings.TrimSuffix(aws.ToString(rr.Name), "."+aws.ToString(z.Name))
				for _, v := range rr.ResourceRecords {
					records[client] = append(records[client], aws.ToString(v.Value))
				}
			}
		}
	}
	for client, ip := range ips {
		if got := records[client]; len(got) != 1 || got[0] != ip {
			return fmt.Errorf("the A record of %s holds %q, want its instance's private IP %s", client, got, ip)
		}
	}
	return nil
}

// inParallel calls f(0) ... f(n-1), at most width at a time, and returns the first error.
func inParallel(n, width int, f func(i int) error) error {
	sem := make(chan struct{}, width)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// callCounter reads the emulator's request log (emulator.LogRequests) and counts the requests
// by service, and those throttled.
type callCounter struct {
	mu sync.Mutex
	callCounts
}

// callCounts are the requests a callCounter has seen.
type callCounts struct {
	api, imds, throttled      int // every AWS API request; instance metadata's; throttled ones (both)
	route53, route53Throttled int
}

// Write takes whole log lines (LogRequests writes one at a time): time, service, operation,
// status, error code, duration.
func (c *callCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sc := bufio.NewScanner(bytes.NewReader(p)); sc.Scan(); {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			return 0, fmt.Errorf("request log line %q: expected time, service, operation, status, code", sc.Text())
		}
		service, code := f[1], f[4]
		throttled := code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" || f[3] == "429"
		if throttled {
			c.throttled++
		}
		switch service {
		case "imds":
			c.imds++
			continue
		case "route53":
			c.route53++
			if throttled {
				c.route53Throttled++
			}
		}
		c.api++
	}
	return len(p), nil
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.callCounts = callCounts{}
}

func (c *callCounter) snapshot() callCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callCounts
}
