package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
)

// Limits are AWS's published per-account request rates, enforced as token buckets: a request
// takes tokens from every bucket it counts against and is throttled, in its protocol's shape,
// when one of them has too few. The numbers and where they come from are in emulator/README.md.
//
// The account's buckets are per region, as AWS's quotas are (EC2's and Parameter Store's), except
// Route 53's, which is global: one set for the account. They are shared by every process on the
// state directory (store.Slots, under its file lock), as AWS's are by every client of the
// account. Instance metadata's buckets are per instance and live in the process that serves the
// instance's port.
type Limits string

// The limit sets: none, or AWS's default quotas.
const (
	NoLimits  Limits = ""
	AWSLimits Limits = "aws"
)

// ParseLimits reads --limits: "aws" or "none" ("" is none).
func ParseLimits(s string) (Limits, error) {
	switch s {
	case "", "none":
		return NoLimits, nil
	case "aws":
		return AWSLimits, nil
	}
	return "", fmt.Errorf("limits %q: the limits are aws (AWS's default per-account request rates) or none", s)
}

// bucket is one token bucket: it holds at most capacity tokens and gains refill a second.
type bucket struct {
	name     string
	capacity float64
	refill   float64
}

// take is a request's claim on a bucket.
type take struct {
	bucket bucket
	tokens float64
}

// AWS's numbers; emulator/README.md cites each.
var (
	// Route 53: request rate, account-wide and per action (any action not listed has the
	// default), and change throughput, in record changes.
	r53Account       = bucket{"route53", 50, 10}
	r53DefaultAction = bucket{"route53:", 50, 10}
	r53Actions       = map[string]bucket{
		"AssociateVPCWithHostedZone":    {"route53:AssociateVPCWithHostedZone", 20, 5},
		"CreateHostedZone":              {"route53:CreateHostedZone", 40, 2},
		"DeleteHostedZone":              {"route53:DeleteHostedZone", 40, 5},
		"DisassociateVPCFromHostedZone": {"route53:DisassociateVPCFromHostedZone", 10, 5},
	}
	r53Changes = bucket{"route53 changes", 1000, 100}

	// SSM Parameter Store's standard throughput.
	ssmGets = bucket{"ssm GetParameter(s)", 40, 40} // GetParameter, GetParameters, GetParametersByPath
	ssmPut  = bucket{"ssm PutParameter", 3, 3}

	// EC2: every action has its own request bucket, sized by its category; a few have a
	// resource bucket too, counted in instances.
	ec2NonMutating = [2]float64{100, 20}
	ec2Unfiltered  = [2]float64{50, 10}
	ec2Mutating    = [2]float64{200, 5}
	ec2Intensive   = [2]float64{50, 5}
	ec2Resources   = map[string]bucket{
		"RunInstances":       {"ec2 instances:RunInstances", 1000, 2},
		"StartInstances":     {"ec2 instances:StartInstances", 1000, 2},
		"StopInstances":      {"ec2 instances:StopInstances", 1000, 20},
		"TerminateInstances": {"ec2 instances:TerminateInstances", 1000, 20},
	}

	// Instance metadata: 1,024 packets a second per network interface; at about four packets
	// a request on a kept-alive connection, 256 requests a second per instance.
	imdsPerInstance = bucket{"imds", 256, 256}
)

// ec2Category returns the request bucket's size and refill of an EC2 action: the category AWS
// puts it in. DescribeInstances with neither a filter, ids nor MaxResults is "unfiltered and
// unpaginated".
func ec2Category(action string, form url.Values) [2]float64 {
	switch {
	case action == "RunInstances", action == "StartInstances", action == "StopInstances", action == "TerminateInstances":
		return ec2Intensive
	case strings.HasPrefix(action, "Describe"):
		if action == "DescribeInstances" && form.Get("MaxResults") == "" && !hasPrefixedKey(form, "Filter.") && !hasPrefixedKey(form, "InstanceId.") {
			return ec2Unfiltered
		}
		return ec2NonMutating
	}
	return ec2Mutating
}

func hasPrefixedKey(form url.Values, prefix string) bool {
	for k := range form {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// limiter applies Limits to requests.
type limiter struct {
	dir string
	now func() time.Time

	global   *store.Slots   // Route 53's buckets, shared by the processes on the directory
	globals  map[string]int // a global bucket's slot, by name
	regional map[string]int // a regional bucket's slot in each region's slots, by name

	mu      sync.Mutex
	regions map[string]*store.Slots // each region's buckets (EC2's, SSM's), opened on its first request
	local   map[string]float64      // instance metadata's buckets, by instance: when each is empty
}

// openLimiter opens the shared buckets in dir; nil for NoLimits. Route 53's are in limits.slots,
// each region's in limits-REGION.slots, opened on the region's first request.
// ec2Actions are the EC2 actions emulated, each with a bucket of its own; now nil means time.Now.
func openLimiter(dir string, set Limits, now func() time.Time, ec2Actions []string) (*limiter, error) {
	if set == NoLimits {
		return nil, nil
	}
	globals := []string{r53Account.name, r53DefaultAction.name, r53Changes.name}
	for _, b := range r53Actions {
		globals = append(globals, b.name)
	}
	for _, op := range route53Operations() {
		globals = append(globals, "route53:"+op)
	}
	regional := []string{ssmGets.name, ssmPut.name}
	for _, b := range ec2Resources {
		regional = append(regional, b.name)
	}
	for _, op := range ec2Actions {
		regional = append(regional, "ec2:"+op)
	}
	if now == nil {
		now = time.Now
	}
	l := &limiter{dir: dir, now: now, globals: slotIndex(globals), regional: slotIndex(regional),
		regions: map[string]*store.Slots{}, local: map[string]float64{}}
	var err error
	if l.global, err = store.OpenSlots(dir, "limits", len(l.globals)); err != nil {
		return nil, err
	}
	return l, nil
}

// slotIndex numbers the bucket names, each once, in sorted order: every process on the directory
// must give a bucket the same slot, whatever order it listed them in (a map's is random).
func slotIndex(names []string) map[string]int {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	return index
}

// Close releases the buckets' files.
func (l *limiter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := []error{l.global.Close()}
	for _, s := range l.regions {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// slots returns the buckets a request of service name in region counts against, and their
// slots by bucket name: Route 53's global ones, or the region's, opened on first use.
func (l *limiter) slots(name, region string) (*store.Slots, map[string]int, error) {
	if name == "route53" {
		return l.global, l.globals, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.regions[region]
	if !ok {
		var err error
		if s, err = store.OpenSlots(l.dir, "limits-"+region, len(l.regional)); err != nil {
			return nil, nil, err
		}
		l.regions[region] = s
	}
	return s, l.regional, nil
}

// allow takes the tokens of every claim of a request of service name in region, or none when
// one bucket has too few.
//
// Each slot holds the moment (microseconds since the Unix epoch) at which its bucket would be
// full again: a bucket with T until then holds capacity - T×refill tokens. This is the generic
// cell rate algorithm's form of a token bucket, one number per bucket.
func (l *limiter) allow(ctx context.Context, name, region string, claims []take) (bool, error) {
	buckets, index, err := l.slots(name, region)
	if err != nil {
		return false, err
	}
	now := float64(l.now().UnixMicro())
	ok := true
	err = buckets.Update(ctx, func(slots []uint64) {
		next := make([]float64, len(claims))
		for i, c := range claims {
			full, known := index[c.bucket.name]
			if !known {
				next[i] = -1
				continue
			}
			if next[i], ok = spend(float64(slots[full]), now, c); !ok {
				return
			}
		}
		for i, c := range claims {
			if next[i] >= 0 {
				slots[index[c.bucket.name]] = uint64(next[i])
			}
		}
	})
	return ok, err
}

// spend returns when bucket c would be full again after its tokens are taken, given when it
// would have been (fullAt) and now, in microseconds; false when it holds too few.
func spend(fullAt, now float64, c take) (float64, bool) {
	perToken := 1e6 / c.bucket.refill
	fullAt = max(fullAt, now)
	after := fullAt + c.tokens*perToken
	if after-now > c.bucket.capacity*perToken {
		return 0, false
	}
	return after, true
}

// allowInstance takes a token from instance id's metadata bucket.
func (l *limiter) allowInstance(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := float64(l.now().UnixMicro())
	next, ok := spend(l.local[id], now, take{imdsPerInstance, 1})
	if ok {
		l.local[id] = next
	}
	return ok
}

// claims returns what request r, for service name, takes from the account's buckets (in its
// region, or Route 53's global ones). It may read
// the body (an EC2 form, a Route 53 change batch), and puts back what it read.
func claims(r *http.Request, name string) []take {
	switch name {
	case "ec2":
		form := peekForm(r)
		action := form.Get("Action")
		size := ec2Category(action, form)
		c := []take{{bucket{"ec2:" + action, size[0], size[1]}, 1}}
		if b, ok := ec2Resources[action]; ok {
			n := float64(countPrefixed(form, "InstanceId."))
			if action == "RunInstances" {
				fmt.Sscan(form.Get("MaxCount"), &n)
			}
			c = append(c, take{b, max(n, 1)})
		}
		return c
	case "ssm":
		switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.") {
		case "GetParameter", "GetParameters", "GetParametersByPath":
			return []take{{ssmGets, 1}}
		case "PutParameter":
			return []take{{ssmPut, 1}}
		}
		return nil
	case "route53":
		op := route53Operation(r)
		per, ok := r53Actions[op]
		if !ok {
			per = bucket{"route53:" + op, r53DefaultAction.capacity, r53DefaultAction.refill}
		}
		c := []take{{r53Account, 1}, {per, 1}}
		if op == "ChangeResourceRecordSets" {
			c = append(c, take{r53Changes, float64(max(1, bytes.Count(peekBody(r), []byte("<Change>"))))})
		}
		return c
	}
	return nil
}

func countPrefixed(form url.Values, prefix string) int {
	n := 0
	for k := range form {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// route53Operation names the Route 53 action a REST request is.
func route53Operation(r *http.Request) string {
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	parts := strings.Split(path, "/")
	switch {
	case parts[0] == "hostedzone" && len(parts) == 1:
		return map[bool]string{true: "CreateHostedZone", false: "ListHostedZones"}[r.Method == http.MethodPost]
	case parts[0] == "hostedzone" && len(parts) == 2:
		return map[bool]string{true: "DeleteHostedZone", false: "GetHostedZone"}[r.Method == http.MethodDelete]
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "rrset":
		return map[bool]string{true: "ChangeResourceRecordSets", false: "ListResourceRecordSets"}[r.Method == http.MethodPost]
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "associatevpc":
		return "AssociateVPCWithHostedZone"
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "disassociatevpc":
		return "DisassociateVPCFromHostedZone"
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "authorizevpcassociation":
		return map[bool]string{true: "CreateVPCAssociationAuthorization", false: "ListVPCAssociationAuthorizations"}[r.Method == http.MethodPost]
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "deauthorizevpcassociation":
		return "DeleteVPCAssociationAuthorization"
	case parts[0] == "hostedzonesbyname":
		return "ListHostedZonesByName"
	case parts[0] == "hostedzonesbyvpc":
		return "ListHostedZonesByVPC"
	case parts[0] == "change":
		return "GetChange"
	}
	return "other"
}

// route53Operations lists the actions route53Operation names, for their buckets' slots.
func route53Operations() []string {
	return []string{"CreateHostedZone", "ListHostedZones", "DeleteHostedZone", "GetHostedZone", "ChangeResourceRecordSets",
		"ListResourceRecordSets", "AssociateVPCWithHostedZone", "DisassociateVPCFromHostedZone", "ListHostedZonesByName",
		"ListHostedZonesByVPC", "CreateVPCAssociationAuthorization", "DeleteVPCAssociationAuthorization",
		"ListVPCAssociationAuthorizations", "GetChange", "other"}
}

// maxPeek bounds the body read to find what a request claims: the services refuse larger ones.
const maxPeek = 1 << 20

// peekBody returns up to maxPeek bytes of r's body and leaves the body whole for the handler.
func peekBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(r.Body, maxPeek))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return head
}

// peekForm returns an EC2 request's parameters: its query and its form body.
func peekForm(r *http.Request) url.Values {
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if body, err := url.ParseQuery(string(peekBody(r))); err == nil {
			for k, v := range body {
				form[k] = append(form[k], v...)
			}
		}
	}
	return form
}
