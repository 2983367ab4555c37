// Package ec2 emulates the part of Amazon EC2 that flow drives: launching, describing, stopping,
// starting and terminating instances, their tags and attributes, the default VPC with its
// subnets and security group, VPCs and subnets of one's own, and a catalog of Amazon Linux
// images. It speaks EC2's Query
// protocol (form-encoded requests, XML answers and errors) so that the real AWS SDKs and the
// AWS CLI work against it unchanged, and it answers as AWS does: the same shapes, the same error
// codes, the same lifecycle.
//
// It knows nothing of flow's engine, and of the other emulated services only what view.go
// states: other services read instances through InstanceView, and the Parameter Store that
// resolves resolve:ssm: image ids is reached through the Parameters interface.
package ec2

import (
	"context"
	"encoding/xml"
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/flow-infra/flow/emulator/internal/regions"
	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

const (
	defaultTerminatedFor = time.Hour
	maxRequestBytes      = 1 << 20
)

// Options configures a Service.
type Options struct {
	// Dir is the state directory; "" keeps the state in memory.
	Dir string
	// IDs makes resource ids; with a seed they are reproducible.
	IDs wire.IDs
	// Clock tells the time; nil means time.Now.
	Clock wire.Clock
	// Region is the region of requests that are not signed for one (see wire.Region); "" means
	// us-east-1. Every region has its own state, opened on its first request.
	Region string
	// AccountID owns every resource; "" means 123456789012.
	AccountID string
	// Parameters resolves image ids given as resolve:ssm:NAME, in the region of the request;
	// nil resolves nothing.
	Parameters Parameters
	// PendingFor is how long, by Clock, an instance stays in each transitional state (pending,
	// stopping, shutting-down) before it is running, stopped or terminated. 0 means that any
	// request after the one that started the transition sees it done.
	PendingFor time.Duration
	// TerminatedFor is how long a terminated instance stays visible before it disappears, as
	// on AWS; 0 means an hour.
	TerminatedFor time.Duration
}

// Service is the emulated EC2 of one region: an http.Handler for the Query protocol, and the view
// other emulated services have of its instances. Every region's Service answers any request, in
// the region the request is signed for.
type Service struct {
	b      *backend
	ops    map[string]action // the dispatch table
	clock  wire.Clock
	params Parameters
	all    *allRegions // every region's Service
}

// allRegions is the Services of every region, and the region of unsigned requests.
type allRegions struct {
	set      *regions.Set[*Service]
	fallback string
}

// New opens (or creates) the state in o.Dir and returns the service of o.Region. A region's new
// state holds the default VPC 172.31.0.0/16 with a default /20 subnet in each of the zones
// REGIONa, REGIONb and REGIONc, and the VPC's default security group. The state of the region
// the directory was first used for is the document ec2.json, each other region's is
// ec2-REGION.json (see package regions).
func New(o Options) (*Service, error) {
	if o.Region == "" {
		o.Region = wire.DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = wire.DefaultAccountID
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TerminatedFor <= 0 {
		o.TerminatedFor = defaultTerminatedFor
	}
	all := &allRegions{fallback: o.Region}
	open := func(region, name string) (*Service, string, error) { return openRegion(o, all, region, name) }
	set, err := regions.Open(o.Dir, "ec2", o.Region, open, func(s *Service) error { return s.b.doc.Close() })
	if err != nil {
		return nil, err
	}
	all.set = set
	return set.Get(o.Region)
}

// openRegion opens the document name, which holds region's state if it is new, and returns the
// Service of the region it holds.
func openRegion(o Options, all *allRegions, region, name string) (*Service, string, error) {
	doc, err := store.Open(o.Dir, name, initialState(regionIDs(o.IDs, region), region))
	if err != nil {
		return nil, "", err
	}
	// Write the initial state now, so that every process sharing the directory sees the same
	// default VPC even when ids are random; a state written before regions learns its region.
	err = doc.Update(context.Background(), func(st *state) error {
		if st.Region == "" {
			st.Region = st.zonesRegion(region)
		}
		region = st.Region
		return nil
	})
	if err != nil {
		doc.Close()
		return nil, "", err
	}
	s := &Service{
		b: &backend{
			doc:     doc,
			ids:     regionIDs(o.IDs, region),
			region:  region,
			account: o.AccountID,
			life:    lifecycle{pendingFor: o.PendingFor, terminatedFor: o.TerminatedFor},
			catalog: PublicImages(region),
		},
		clock:  o.Clock,
		params: o.Parameters,
		all:    all,
	}
	s.ops = s.actions()
	return s, region, nil
}

// regionIDs is the id source of region: with a seed, each region's ids differ from every other
// region's (us-east-1's are the seed's own), as instance ids are unique across regions on AWS.
func regionIDs(ids wire.IDs, region string) wire.IDs {
	if ids.Seed == "" || region == wire.DefaultRegion {
		return ids
	}
	return wire.IDs{Seed: ids.Seed + "@" + region}
}

// Region returns the region of this Service's state.
func (s *Service) Region() string { return s.b.region }

// Close releases the state directory: every region's document.
func (s *Service) Close() error { return s.all.set.Close() }

// inRegion returns the Service of region; an unknown region is AuthFailure, as AWS answers a
// request signed for a region it does not have.
func (s *Service) inRegion(region string) (*Service, error) {
	svc, err := s.all.set.Get(region)
	if errors.Is(err, regions.ErrUnknownRegion) {
		return nil, errorf(codeAuthFailure, "Credential should be scoped to a valid region, not '%s'.", region)
	}
	return svc, err
}

// now is the time of a request, to the millisecond as EC2 shows times.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// ServeHTTP answers one EC2 Query request, signed or not, whatever its credentials, in the
// region its signature is for (unsigned, Options.Region).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, err := s.inRegion(wire.Region(r, s.all.fallback))
	if err != nil {
		writeError(w, r, err)
		return
	}
	target.serve(w, r)
}

// serve answers one EC2 Query request in this Service's region.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		writeError(w, r, errorf(codeMalformedQueryString, "The request could not be parsed: %v", err))
		return
	}
	p := params{values: r.Form}
	action := p.get("Action")
	wire.RecordOf(r.Context()).Operation = action
	res, err := s.dispatch(r.Context(), action, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.setRequestID(wire.RequestID())
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.EncodeElement(res, xml.StartElement{Name: xml.Name{Space: namespace, Local: action + "Response"}})
	enc.Close()
}

// WriteFault answers r with an injected fault in EC2's error shape: RequestLimitExceeded (503)
// for wire.Throttle, InternalError (500) for wire.ServerError.
func (s *Service) WriteFault(w http.ResponseWriter, r *http.Request, f wire.Fault) {
	writeError(w, r, faultError(f))
}

// dispatch runs one action; ctx is the request's, which gives up waiting for the state.
func (s *Service) dispatch(ctx context.Context, action string, p params) (result, error) {
	if action == "" {
		return nil, errorf(codeMissingAction, "The request must contain the parameter Action")
	}
	handler, ok := s.ops[action]
	if !ok {
		return nil, errorf(codeInvalidAction, "The action %s is not valid for this web service.", action)
	}
	if dry, err := p.boolean("DryRun"); err != nil {
		return nil, err
	} else if dry {
		return nil, errorf(codeDryRunOperation, "Request would have succeeded, but DryRun flag is set.")
	}
	return handler(ctx, p, s.now())
}

// action answers one EC2 action: the request's context, its parameters, and the time of the
// request.
type action func(ctx context.Context, p params, now time.Time) (result, error)

// actions is the dispatch table: each action EC2 answers, by the name a request gives in Action.
func (s *Service) actions() map[string]action {
	return map[string]action{
		"RunInstances":              s.runInstances,
		"DescribeInstances":         s.describeInstances,
		"StopInstances":             s.stopInstances,
		"StartInstances":            s.startInstances,
		"TerminateInstances":        s.terminateInstances,
		"CreateTags":                s.createTags,
		"DeleteTags":                s.deleteTags,
		"DescribeInstanceAttribute": s.describeInstanceAttribute,
		"DescribeVpcs":              s.describeVpcs,
		"DescribeSubnets":           s.describeSubnets,
		"DescribeSecurityGroups":    s.describeSecurityGroups,
		"DescribeImages":            s.describeImages,
		"CreateImage":               s.createImage,
		"RegisterImage":             s.registerImage,
		"DeregisterImage":           s.deregisterImage,
		"CopyImage":                 s.copyImage,
		"CreateVpc":                 s.createVpc,
		"DeleteVpc":                 s.deleteVpc,
		"CreateSubnet":              s.createSubnet,
		"DeleteSubnet":              s.deleteSubnet,
	}
}

// Instance returns the instance with that id as it is now, in whichever region it is; ok is
// false when there is none, or it has been terminated long enough to have disappeared. It gives
// up waiting for the state when ctx is done, and returns ctx's error.
func (s *Service) Instance(ctx context.Context, id string) (view InstanceView, ok bool, err error) {
	all, err := s.all.set.All()
	if err != nil {
		return InstanceView{}, false, err
	}
	for _, r := range all {
		if view, ok, err = r.instance(ctx, id); ok || err != nil {
			return view, ok, err
		}
	}
	return InstanceView{}, false, nil
}

// instance is Instance in this region.
func (s *Service) instance(ctx context.Context, id string) (view InstanceView, ok bool, err error) {
	now := s.now()
	err = s.b.doc.View(ctx, func(st *state) error {
		inst := st.instanceByID(id)
		if inst == nil || s.b.life.gone(inst, now) {
			return nil
		}
		view, ok = s.view(s.b.snapshot(st, inst, now)), true
		return nil
	})
	return view, ok, err
}

// LatestRunning returns the running instance launched (or last started) most recently, in any
// region; ok is false when no instance is running. It gives up waiting for the state when ctx
// is done, and returns ctx's error.
func (s *Service) LatestRunning(ctx context.Context) (view InstanceView, ok bool, err error) {
	all, err := s.all.set.All()
	if err != nil {
		return InstanceView{}, false, err
	}
	for _, r := range all {
		v, found, err := r.latestRunning(ctx)
		if err != nil {
			return InstanceView{}, false, err
		}
		if found && (!ok || !v.LaunchTime.Before(view.LaunchTime)) {
			view, ok = v, true
		}
	}
	return view, ok, nil
}

// latestRunning is LatestRunning in this region.
func (s *Service) latestRunning(ctx context.Context) (view InstanceView, ok bool, err error) {
	now := s.now()
	err = s.b.doc.View(ctx, func(st *state) error {
		var latest *instance
		for _, inst := range st.Instances {
			if name, _ := s.b.life.current(inst, now); name != stateRunning {
				continue
			}
			if latest == nil || !inst.LaunchTime.Before(latest.LaunchTime) {
				latest = inst
			}
		}
		if latest != nil {
			view, ok = s.view(s.b.snapshot(st, latest, now)), true
		}
		return nil
	})
	return view, ok, err
}

// Actions returns the names of the actions it emulates, sorted.
func (s *Service) Actions() []string {
	return slices.Sorted(maps.Keys(s.ops))
}

// LiveInstanceIDs returns the ids of the instances not terminated, region by region (sorted by
// name), each region's in launch order. It gives up waiting for the state when ctx is done, and
// returns ctx's error.
func (s *Service) LiveInstanceIDs(ctx context.Context) (ids []string, err error) {
	all, err := s.all.set.All()
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		now := r.now()
		err = r.b.doc.View(ctx, func(st *state) error {
			for _, inst := range st.Instances {
				if name, _ := r.b.life.current(inst, now); name != stateTerminated {
					ids = append(ids, inst.ID)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// VPCExists reports whether a VPC with that id exists in region (none does in a region the
// emulator does not emulate). It gives up waiting for the state when ctx is done, and returns
// ctx's error.
func (s *Service) VPCExists(ctx context.Context, region, id string) (exists bool, err error) {
	r, err := s.all.set.Get(region)
	if errors.Is(err, regions.ErrUnknownRegion) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = r.b.doc.View(ctx, func(st *state) error {
		exists = st.vpcByID(id) != nil
		return nil
	})
	return exists, err
}

// view is the InstanceView of a snapshot.
func (s *Service) view(snap instanceSnapshot) InstanceView {
	v := InstanceView{
		ID:               snap.ID,
		ReservationID:    snap.ReservationID,
		AccountID:        snap.Owner,
		ImageID:          snap.ImageID,
		InstanceType:     snap.InstanceType,
		Architecture:     snap.Architecture,
		State:            snap.State,
		AvailabilityZone: snap.AvailabilityZone,
		Region:           s.b.region,
		LaunchTime:       snap.LaunchTime,
		LaunchIndex:      snap.LaunchIndex,
		KeyName:          snap.KeyName,
		Tags:             snap.Tags,
		MetadataTags:     snap.Metadata.Tags == "enabled",
		MetadataEndpoint: snap.Metadata.HTTPEndpoint == "enabled",
		UserData:         snap.UserData,
	}
	if len(v.UserData) == 0 {
		v.UserData = nil
	}
	if snap.Profile != nil {
		v.IAMInstanceProfileARN = snap.Profile.ARN
		v.IAMInstanceProfileID = snap.Profile.ID
	}
	if snap.State != stateTerminated {
		v.PrivateIP = snap.PrivateIP
		v.PrivateDNSName = snap.PrivateDNS
		v.SubnetID = snap.SubnetID
		v.VpcID = snap.VpcID
		v.MAC = snap.MAC
		for _, g := range snap.Groups {
			v.SecurityGroups = append(v.SecurityGroups, g.Name)
		}
	}
	return v
}

var _ wire.Service = (*Service)(nil)
