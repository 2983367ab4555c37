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
	"maps"
	"net/http"
	"slices"
	"time"

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
	// Region is the emulated region; "" means us-east-1.
	Region string
	// AccountID owns every resource; "" means 123456789012.
	AccountID string
	// Images are the images instances can be launched from; nil means PublicImages(Region).
	Images []Image
	// Parameters resolves image ids given as resolve:ssm:NAME; nil resolves nothing.
	Parameters Parameters
	// PendingFor is how long, by Clock, an instance stays in each transitional state (pending,
	// stopping, shutting-down) before it is running, stopped or terminated. 0 means that any
	// request after the one that started the transition sees it done.
	PendingFor time.Duration
	// TerminatedFor is how long a terminated instance stays visible before it disappears, as
	// on AWS; 0 means an hour.
	TerminatedFor time.Duration
}

// Service is the emulated EC2: an http.Handler for the Query protocol, and the view other
// emulated services have of its instances.
type Service struct {
	b      *backend
	ops    map[string]action // the dispatch table
	clock  wire.Clock
	params Parameters
}

// New opens (or creates) the state in o.Dir and returns the service. A new state holds the
// default VPC 172.31.0.0/16 with a default /20 subnet in each of the zones REGIONa, REGIONb and
// REGIONc, and the VPC's default security group.
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
	if o.Images == nil {
		o.Images = PublicImages(o.Region)
	}
	if o.TerminatedFor <= 0 {
		o.TerminatedFor = defaultTerminatedFor
	}
	doc, err := store.Open(o.Dir, "ec2", initialState(o.IDs, o.Region))
	if err != nil {
		return nil, err
	}
	// Write the initial state now, so that every process sharing the directory sees the same
	// default VPC even when ids are random.
	if err := doc.Update(context.Background(), func(*state) error { return nil }); err != nil {
		doc.Close()
		return nil, err
	}
	s := &Service{
		b: &backend{
			doc:     doc,
			ids:     o.IDs,
			region:  o.Region,
			account: o.AccountID,
			life:    lifecycle{pendingFor: o.PendingFor, terminatedFor: o.TerminatedFor},
			catalog: slices.Clone(o.Images),
		},
		clock:  o.Clock,
		params: o.Parameters,
	}
	s.ops = s.actions()
	return s, nil
}

// Close releases the state directory.
func (s *Service) Close() error { return s.b.doc.Close() }

// now is the time of a request, to the millisecond as EC2 shows times.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// ServeHTTP answers one EC2 Query request, signed or not, whatever its credentials.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		"CreateVpc":                 s.createVpc,
		"DeleteVpc":                 s.deleteVpc,
		"CreateSubnet":              s.createSubnet,
		"DeleteSubnet":              s.deleteSubnet,
	}
}

// Instance returns the instance with that id as it is now; ok is false when there is
// none, or it has been terminated long enough to have disappeared. It gives up waiting for the
// state when ctx is done, and returns ctx's error.
func (s *Service) Instance(ctx context.Context, id string) (view InstanceView, ok bool, err error) {
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

// LatestRunning returns the running instance launched (or last started) most recently;
// ok is false when no instance is running. It gives up waiting for the state when ctx is done,
// and returns ctx's error.
func (s *Service) LatestRunning(ctx context.Context) (view InstanceView, ok bool, err error) {
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

// LiveInstanceIDs returns the ids of the instances not terminated, in launch order. It gives up
// waiting for the state when ctx is done, and returns ctx's error.
func (s *Service) LiveInstanceIDs(ctx context.Context) (ids []string, err error) {
	now := s.now()
	err = s.b.doc.View(ctx, func(st *state) error {
		for _, inst := range st.Instances {
			if name, _ := s.b.life.current(inst, now); name != stateTerminated {
				ids = append(ids, inst.ID)
			}
		}
		return nil
	})
	return ids, err
}

// VPCExists reports whether a VPC with that id exists. It gives up waiting for the state when
// ctx is done, and returns ctx's error.
func (s *Service) VPCExists(ctx context.Context, id string) (exists bool, err error) {
	err = s.b.doc.View(ctx, func(st *state) error {
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
