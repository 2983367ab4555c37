package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// backend keeps the emulated EC2's state and implements its operations on it, whatever the wire
// looks like. Every method takes the time of the request; an error it returns is a *wire.Error
// with the code AWS would send, unless the state store itself failed.
type backend struct {
	doc     *store.Doc[state]
	ids     wire.IDs
	region  string
	account string
	life    lifecycle
	catalog []Image // Amazon's images of the region
}

// instanceSnapshot is an instance as a response shows it: a copy, in the state it is in at the
// time of the request, with its tags and security groups.
type instanceSnapshot struct {
	instance
	Owner      string // the account
	PrivateDNS string
	PublicDNS  string // "" without a public IP
	Tags       []Tag
	Groups     []securityGroup
}

// reservationSnapshot is a reservation with (some of) its instances.
type reservationSnapshot struct {
	ID        string
	Instances []instanceSnapshot
}

func (b *backend) snapshot(st *state, inst *instance, now time.Time) instanceSnapshot {
	s := instanceSnapshot{instance: *inst, Owner: b.account, PrivateDNS: privateDNSName(inst.PrivateIP, b.region)}
	s.State, s.Since = b.life.current(inst, now)
	if s.State == statePending || s.State == stateRunning {
		s.PublicDNS = publicDNSName(s.PublicIP, b.region)
	} else {
		s.PublicIP = "" // released when the instance stops or terminates
	}
	s.GroupIDs = slices.Clone(inst.GroupIDs)
	s.Volumes = slices.Clone(inst.Volumes)
	s.UserData = slices.Clone(inst.UserData)
	s.Tags = slices.Clone(st.Tags[inst.ID])
	for _, id := range inst.GroupIDs {
		if g := st.groupByID(id); g != nil {
			s.Groups = append(s.Groups, *g)
		}
	}
	return s
}

// runRequest is a checked RunInstances request. The handler has validated every value's form
// and resolved the image; the backend checks it against the state.
type runRequest struct {
	Image            Image
	InstanceType     string
	MinCount         int
	MaxCount         int
	SubnetID         string // "" = the default subnet (of AvailabilityZone, if given)
	AvailabilityZone string
	GroupIDs         []string
	GroupNames       []string
	KeyName          string
	Profile          *instanceProfile
	UserData         []byte
	Tags             map[string][]Tag // by resource type: instance, volume, network-interface
	Metadata         metadataOptions
	ClientToken      string
	Fingerprint      string // of every parameter but the token and the zone
	PrivateIP        string
	NoTermination    bool
	NoStop           bool
	EBSOptimized     bool
	Monitoring       bool
	ShutdownBehavior string
	Mappings         []mapping // BlockDeviceMapping, over the image's
	// PublicIP is AssociatePublicIpAddress of the primary network interface; nil means as the
	// subnet says (MapPublicIpOnLaunch).
	PublicIP             *bool
	InterfaceKept        bool // the primary network interface's DeleteOnTermination is false
	InterfaceDescription string
}

// run launches between MinCount and MaxCount instances in one new reservation and returns it,
// its instances pending. With a ClientToken seen before it launches nothing and returns the
// reservation that token made, as it is now.
//
// It returns IdempotentParameterMismatch when the token was used with other parameters,
// IdempotentInstanceTerminated when the token's instances have been terminated,
// InvalidSubnetID.NotFound, InvalidGroup.NotFound, InvalidParameterValue for a zone with no
// default subnet or an address outside the subnet, InvalidIPAddress.InUse, and
// InsufficientFreeAddressesInSubnet when fewer than MinCount addresses are free.
func (b *backend) run(ctx context.Context, now time.Time, req runRequest) (res reservationSnapshot, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		if req.ClientToken != "" {
			if prior, ok := st.ClientTokens[req.ClientToken]; ok {
				res, err = b.replay(st, prior, req, now)
				return err
			}
		}
		if _, err := b.launchable(st, req.Image.ID, now); err != nil {
			return err // deregistered since the request was checked
		}
		disks, err := b.launchVolumes(st, req.Image, req.Mappings)
		if err != nil {
			return err
		}
		sub, err := b.launchSubnet(st, req)
		if err != nil {
			return err
		}
		groups, err := b.launchGroups(st, sub, req)
		if err != nil {
			return err
		}
		used := b.life.addressesInUse(st, sub, now)
		free := freeAddresses(sub, used)
		if req.PrivateIP != "" {
			addr, _ := netip.ParseAddr(req.PrivateIP)
			if !inSubnet(sub, addr) {
				return errorf(codeInvalidParameterValue, "Address %s does not fall within the subnet's address range", req.PrivateIP)
			}
			if used[addr.String()] {
				return errorf(codeInvalidIPAddressInUse, "Address %s is in use.", req.PrivateIP)
			}
			free = []netip.Addr{addr}
		}
		count := min(req.MaxCount, len(free))
		if count < req.MinCount {
			return errorf(codeInsufficientFreeAddresses, "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", sub.ID)
		}
		r := &reservation{ID: st.newID(b.ids, "r-")}
		res.ID = r.ID
		for i := range count {
			pick := b.ids.Int("ip", st.next("ip"), len(free))
			addr := free[pick]
			free = slices.Delete(free, pick, pick+1)
			inst := b.newInstance(st, req, r.ID, i, sub, groups, addr.String(), now)
			inst.RootSize, inst.RootKept = disks.rootSize, disks.rootKept
			for _, v := range disks.volumes {
				v.ID = st.newID(b.ids, "vol-")
				inst.Volumes = append(inst.Volumes, v)
			}
			st.Instances = append(st.Instances, inst)
			r.InstanceIDs = append(r.InstanceIDs, inst.ID)
			for kind, tags := range req.Tags {
				var id string
				switch kind {
				case "instance":
					id = inst.ID
				case "volume":
					for _, v := range inst.Volumes {
						st.Tags[v.ID] = slices.Clone(tags)
					}
					id = inst.Volume
				case "network-interface":
					id = inst.NetworkInterface
				}
				if id != "" {
					st.Tags[id] = slices.Clone(tags)
				}
			}
			snap := b.snapshot(st, inst, now)
			snap.State, snap.Since = inst.State, inst.Since // launched: pending, whatever PendingFor says
			res.Instances = append(res.Instances, snap)
		}
		st.Reservations = append(st.Reservations, r)
		if req.ClientToken != "" {
			st.ClientTokens[req.ClientToken] = &clientToken{Fingerprint: req.Fingerprint, ReservationID: r.ID}
		}
		return nil
	})
	return res, err
}

// replay answers a RunInstances whose ClientToken made reservation prior.
func (b *backend) replay(st *state, prior *clientToken, req runRequest, now time.Time) (reservationSnapshot, error) {
	if prior.Fingerprint != req.Fingerprint {
		return reservationSnapshot{}, errorf(codeIdempotentParameterMismatch, "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
	}
	terminated := errorf(codeIdempotentInstanceTerminated, "The client token you have provided is associated with a terminated instance. Please use a different client token.")
	r := st.reservationByID(prior.ReservationID)
	if r == nil {
		return reservationSnapshot{}, terminated
	}
	res := reservationSnapshot{ID: r.ID}
	for _, id := range r.InstanceIDs {
		inst := st.instanceByID(id)
		if inst == nil {
			return reservationSnapshot{}, terminated
		}
		if name, _ := b.life.current(inst, now); name == stateShuttingDown || name == stateTerminated {
			return reservationSnapshot{}, terminated
		}
		res.Instances = append(res.Instances, b.snapshot(st, inst, now))
	}
	return res, nil
}

// launchSubnet returns the subnet a launch goes to: the one named, or a default subnet of the
// default VPC.
func (b *backend) launchSubnet(st *state, req runRequest) (*subnet, error) {
	if req.SubnetID != "" {
		sub := st.subnetByID(req.SubnetID)
		if sub == nil {
			return nil, errorf(codeInvalidSubnetIDNotFound, "The subnet ID '%s' does not exist", req.SubnetID)
		}
		if req.AvailabilityZone != "" && req.AvailabilityZone != sub.AvailabilityZone {
			return nil, errorf(codeInvalidParameterValue, "The specified Availability Zone '%s' does not match the Availability Zone of the subnet '%s' (%s).", req.AvailabilityZone, sub.ID, sub.AvailabilityZone)
		}
		return sub, nil
	}
	v := st.defaultVPC()
	if v == nil {
		if len(req.GroupNames) > 0 {
			return nil, errorf(codeVPCIDNotSpecified, "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
		}
		return nil, errorf(codeVPCIDNotSpecified, "No default VPC for this user")
	}
	for _, sub := range st.Subnets {
		if sub.VpcID == v.ID && sub.DefaultForAZ && (req.AvailabilityZone == "" || sub.AvailabilityZone == req.AvailabilityZone) {
			return sub, nil
		}
	}
	if req.AvailabilityZone == "" {
		return nil, errorf(codeMissingInput, "No subnets found for the default VPC '%s'. Please specify a subnet.", v.ID)
	}
	return nil, errorf(codeInvalidParameterValue, "Invalid availability zone: [%s]", req.AvailabilityZone)
}

// launchGroups returns the ids of the security groups a launch into sub gets: those named in the
// request, or the VPC's default group.
func (b *backend) launchGroups(st *state, sub *subnet, req runRequest) ([]string, error) {
	var ids []string
	for _, id := range req.GroupIDs {
		g := st.groupByID(id)
		if g == nil {
			return nil, errorf(codeInvalidGroupNotFound, "The security group '%s' does not exist", id)
		}
		if g.VpcID != sub.VpcID {
			return nil, errorf(codeInvalidParameter, "Security group %s and subnet %s belong to different networks.", id, sub.ID)
		}
		ids = appendUnique(ids, id)
	}
	for _, name := range req.GroupNames {
		var found *securityGroup
		for _, g := range st.SecurityGroups {
			if g.Name == name && g.VpcID == sub.VpcID {
				found = g
			}
		}
		if found == nil {
			return nil, errorf(codeInvalidGroupNotFound, "The security group '%s' does not exist in VPC '%s'", name, sub.VpcID)
		}
		ids = appendUnique(ids, found.ID)
	}
	if len(ids) == 0 {
		for _, g := range st.SecurityGroups {
			if g.Name == "default" && g.VpcID == sub.VpcID {
				ids = append(ids, g.ID)
			}
		}
	}
	return ids, nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (b *backend) newInstance(st *state, req runRequest, reservationID string, index int, sub *subnet, groups []string, ip string, now time.Time) *instance {
	mac := b.ids.Hex("mac", st.next("mac"), 10)
	return &instance{
		ID:               st.newID(b.ids, "i-"),
		Seq:              st.next("launch"),
		ReservationID:    reservationID,
		LaunchIndex:      index,
		ImageID:          req.Image.ID,
		InstanceType:     req.InstanceType,
		Architecture:     req.Image.Architecture,
		KeyName:          req.KeyName,
		State:            statePending,
		Since:            now,
		LaunchTime:       now,
		PrivateIP:        ip,
		PublicIP:         publicIP(st, sub, req.PublicIP),
		SubnetID:         sub.ID,
		VpcID:            sub.VpcID,
		AvailabilityZone: sub.AvailabilityZone,
		GroupIDs:         groups,
		ClientToken:      req.ClientToken,
		UserData:         req.UserData,
		Profile:          req.Profile,
		Metadata:         req.Metadata,
		NetworkInterface: st.newID(b.ids, "eni-"),
		Attachment:       st.newID(b.ids, "eni-attach-"),
		InterfaceKept:    req.InterfaceKept,
		InterfaceDesc:    req.InterfaceDescription,
		MAC:              "0a:" + mac[0:2] + ":" + mac[2:4] + ":" + mac[4:6] + ":" + mac[6:8] + ":" + mac[8:10],
		Volume:           st.newID(b.ids, "vol-"),
		RootDevice:       req.Image.RootDeviceName,
		BootMode:         req.Image.BootMode,
		ShutdownBehavior: req.ShutdownBehavior,
		NoTermination:    req.NoTermination,
		NoStop:           req.NoStop,
		EBSOptimized:     req.EBSOptimized,
		Monitoring:       req.Monitoring,
	}
}

// describeRequest is a checked DescribeInstances request.
type describeRequest struct {
	IDs        []string // well formed; empty = every instance
	Filters    []filter
	MaxResults int // 0 = no pagination
	NextToken  string
}

// describe returns the reservations whose instances match req, grouped as launched, in launch
// order, and the token of the next page ("" on the last one). Terminated instances show until
// they disappear.
//
// It returns InvalidInstanceID.NotFound naming the requested ids that do not exist, and
// InvalidPaginationToken for a token it did not make.
func (b *backend) describe(ctx context.Context, now time.Time, req describeRequest) (page []reservationSnapshot, next string, err error) {
	after, err := decodeToken(req.NextToken)
	if err != nil {
		return nil, "", err
	}
	err = b.doc.View(ctx, func(st *state) error {
		visible := b.visible(st, now)
		var selected []*instance
		if len(req.IDs) > 0 {
			byID := map[string]*instance{}
			for _, inst := range visible {
				byID[inst.ID] = inst
			}
			var missing []string
			for _, id := range dedupe(req.IDs) {
				if inst, ok := byID[id]; ok {
					selected = append(selected, inst)
				} else {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return instancesNotFound(missing)
			}
			slices.SortFunc(selected, func(x, y *instance) int { return compareUint(x.Seq, y.Seq) })
		} else {
			selected = visible
		}
		count := 0
		for _, inst := range selected {
			if inst.Seq <= after {
				continue
			}
			snap := b.snapshot(st, inst, now)
			if !matches(instanceFields(snap), req.Filters) {
				continue
			}
			if req.MaxResults > 0 && count == req.MaxResults {
				next = encodeToken(page[len(page)-1].Instances[len(page[len(page)-1].Instances)-1].Seq)
				return nil
			}
			count++
			if n := len(page); n > 0 && page[n-1].ID == inst.ReservationID {
				page[n-1].Instances = append(page[n-1].Instances, snap)
			} else {
				page = append(page, reservationSnapshot{ID: inst.ReservationID, Instances: []instanceSnapshot{snap}})
			}
		}
		return nil
	})
	return page, next, err
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// visible returns the instances that have not disappeared at now, in launch order.
func (b *backend) visible(st *state, now time.Time) []*instance {
	var out []*instance
	for _, inst := range st.Instances {
		if !b.life.gone(inst, now) {
			out = append(out, inst)
		}
	}
	return out
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = appendUnique(out, id)
	}
	return out
}

// instancesNotFound is AWS's error for ids that name no instance.
func instancesNotFound(ids []string) error {
	if len(ids) == 1 {
		return errorf(codeInvalidInstanceIDNotFound, "The instance ID '%s' does not exist", ids[0])
	}
	return errorf(codeInvalidInstanceIDNotFound, "The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

// imagesNotFound is AWS's error for ids that name no image.
func imagesNotFound(ids []string) error {
	if len(ids) == 1 {
		return errorf(codeInvalidAMIIDNotFound, "The image id '[%s]' does not exist", ids[0])
	}
	return errorf(codeInvalidAMIIDNotFound, "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

// A page token carries the launch sequence number of the last instance of the page before.
const tokenPrefix = "flow-ec2-instances:"

func encodeToken(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + strconv.FormatUint(seq, 10)))
}

func decodeToken(token string) (uint64, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), tokenPrefix); ok {
			if seq, err := strconv.ParseUint(rest, 10, 64); err == nil {
				return seq, nil
			}
		}
	}
	return 0, errorf(codeInvalidPaginationToken, "Invalid pagination token: %s", token)
}

// stateChange is one instance's part of a StopInstances, StartInstances or TerminateInstances
// answer.
type stateChange struct {
	ID       string
	Previous string
	Current  string
}

// transition is what StopInstances, StartInstances and TerminateInstances do to one instance:
// given its current state it returns the state it moves to, or an error.
type transition func(inst *instance, current string) (string, error)

func stopTransition(inst *instance, current string) (string, error) {
	switch current {
	case stateRunning:
		if inst.NoStop {
			return "", errorf(codeOperationNotPermitted, "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", inst.ID)
		}
		return stateStopping, nil
	case stateStopping, stateStopped:
		return current, nil
	case statePending:
		if !inst.Ran {
			return "", errorf(codeIncorrectInstanceState, "Instance '%s' cannot be stopped as it has never reached the 'running' state.", inst.ID)
		}
	}
	return "", errorf(codeIncorrectInstanceState, "This instance '%s' is not in a state from which it can be stopped.", inst.ID)
}

func startTransition(inst *instance, current string) (string, error) {
	switch current {
	case stateStopped:
		return statePending, nil
	case statePending, stateRunning:
		return current, nil
	}
	return "", errorf(codeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be started.", inst.ID)
}

func terminateTransition(inst *instance, current string) (string, error) {
	switch current {
	case stateShuttingDown, stateTerminated:
		return current, nil
	}
	if inst.NoTermination {
		return "", errorf(codeOperationNotPermitted, "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", inst.ID)
	}
	return stateShuttingDown, nil
}

// changeStates applies t to every instance of ids, all or none, and returns each one's previous
// and new state in the order of ids. An instance that is already where t leads is left alone.
//
// It returns InvalidInstanceID.NotFound when an id names no instance, and the error t returns
// for the first instance it refuses (IncorrectInstanceState, OperationNotPermitted).
func (b *backend) changeStates(ctx context.Context, now time.Time, ids []string, t transition) (changes []stateChange, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		ids = dedupe(ids)
		var missing []string
		var targets []*instance
		for _, id := range ids {
			if inst := st.instanceByID(id); inst != nil {
				targets = append(targets, inst)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return instancesNotFound(missing)
		}
		for _, inst := range targets {
			next, err := t(inst, inst.State)
			if err != nil {
				return err
			}
			changes = append(changes, stateChange{ID: inst.ID, Previous: inst.State, Current: next})
			if next == inst.State {
				continue
			}
			inst.State, inst.Since = next, now
			switch next {
			case statePending:
				inst.LaunchTime = now
				inst.Reason = ""
			case stateStopping, stateShuttingDown:
				inst.Reason = "User initiated (" + now.UTC().Format("2006-01-02 15:04:05") + " GMT)"
			}
		}
		return nil
	})
	return changes, err
}

// instanceSnapshotByID returns one instance as it is at now.
//
// It returns InvalidInstanceID.NotFound when there is no such instance (any more).
func (b *backend) instanceSnapshotByID(ctx context.Context, now time.Time, id string) (snap instanceSnapshot, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		inst := st.instanceByID(id)
		if inst == nil || b.life.gone(inst, now) {
			return instancesNotFound([]string{id})
		}
		snap = b.snapshot(st, inst, now)
		return nil
	})
	return snap, err
}

// tagSelector is one tag of a DeleteTags request: a key, and a value that must match unless
// AnyValue.
type tagSelector struct {
	Key      string
	Value    string
	AnyValue bool
}

// createTags adds tags to every resource, or replaces the value of a key it already has.
//
// It returns the NotFound error of the resource's kind when a resource does not exist,
// InvalidID for an id of no kind it knows, TagLimitExceeded when a resource would have more
// than 50 tags, and InvalidParameterValue for a key an instance that allows tags in instance
// metadata may not have (see checkMetadataTagKeys).
func (b *backend) createTags(ctx context.Context, now time.Time, resources []string, tags []Tag) error {
	return b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		for _, id := range resources {
			if err := b.checkResource(st, id); err != nil {
				return err
			}
			if inst := st.instanceByID(id); inst != nil && inst.Metadata.Tags == "enabled" {
				if err := checkMetadataTagKeys(tags); err != nil {
					return err
				}
			}
		}
		for _, id := range dedupe(resources) {
			list := st.Tags[id]
			for _, t := range tags {
				if i := slices.IndexFunc(list, func(have Tag) bool { return have.Key == t.Key }); i >= 0 {
					list[i].Value = t.Value
				} else {
					list = append(list, t)
				}
			}
			if len(list) > maxTags {
				return errorf(codeTagLimitExceeded, "The maximum number of Tags for a resource has been reached.")
			}
			st.Tags[id] = list
		}
		return nil
	})
}

// deleteTags removes the selected tags from every resource; with no selectors, all its tags.
//
// It returns the NotFound error of the resource's kind when a resource does not exist, and
// InvalidID for an id of no kind it knows.
func (b *backend) deleteTags(ctx context.Context, now time.Time, resources []string, selectors []tagSelector) error {
	return b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		for _, id := range resources {
			if err := b.checkResource(st, id); err != nil {
				return err
			}
		}
		for _, id := range resources {
			if len(selectors) == 0 {
				delete(st.Tags, id)
				continue
			}
			st.Tags[id] = slices.DeleteFunc(st.Tags[id], func(t Tag) bool {
				for _, sel := range selectors {
					if sel.Key == t.Key && (sel.AnyValue || sel.Value == t.Value) {
						return true
					}
				}
				return false
			})
			if len(st.Tags[id]) == 0 {
				delete(st.Tags, id)
			}
		}
		return nil
	})
}

// checkResource returns the error AWS gives for a taggable resource id that names nothing.
func (b *backend) checkResource(st *state, id string) error {
	kind, _, _ := strings.Cut(id, "-")
	switch kind {
	case "i":
		if !instanceID.MatchString(id) {
			return errorf(codeInvalidInstanceIDMalformed, "Invalid id: \"%s\"", id)
		}
		if st.instanceByID(id) == nil {
			return instancesNotFound([]string{id})
		}
		return nil
	case "vpc":
		if st.vpcByID(id) == nil {
			return errorf(codeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", id)
		}
		return nil
	case "subnet":
		if st.subnetByID(id) == nil {
			return errorf(codeInvalidSubnetIDNotFound, "The subnet ID '%s' does not exist", id)
		}
		return nil
	case "sg":
		if st.groupByID(id) == nil {
			return errorf(codeInvalidGroupNotFound, "The security group '%s' does not exist", id)
		}
		return nil
	case "ami":
		if im := b.image(st, id); im == nil || im.State == imageDeregistered {
			return imagesNotFound([]string{id})
		}
		return nil
	case "snap":
		if st.snapshotByID(id) == nil {
			return errorf(codeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", id)
		}
		return nil
	case "vol":
		for _, inst := range st.Instances {
			if slices.Contains(inst.volumeIDs(), id) {
				return nil
			}
		}
		return errorf(codeInvalidVolumeNotFound, "The volume '%s' does not exist.", id)
	case "eni":
		for _, inst := range st.Instances {
			if inst.NetworkInterface == id {
				return nil
			}
		}
		return errorf(codeInvalidNetworkInterfaceID, "The networkInterface ID '%s' does not exist", id)
	}
	return errorf(codeInvalidID, "The ID '%s' is not valid", id)
}

// network returns copies of the VPCs, subnets and security groups with their tags, and each
// subnet's free address count at now.
func (b *backend) network(ctx context.Context, now time.Time) (net networkSnapshot, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		for _, v := range st.VPCs {
			net.VPCs = append(net.VPCs, vpcSnapshot{vpc: *v, Tags: slices.Clone(st.Tags[v.ID])})
		}
		for _, s := range st.Subnets {
			net.Subnets = append(net.Subnets, subnetSnapshot{
				subnet:    *s,
				Tags:      slices.Clone(st.Tags[s.ID]),
				Available: b.life.availableAddresses(st, s, now),
			})
		}
		for _, g := range st.SecurityGroups {
			net.Groups = append(net.Groups, groupSnapshot{securityGroup: *g, Tags: slices.Clone(st.Tags[g.ID])})
		}
		return nil
	})
	return net, err
}

type networkSnapshot struct {
	VPCs    []vpcSnapshot
	Subnets []subnetSnapshot
	Groups  []groupSnapshot
}

type vpcSnapshot struct {
	vpc
	Tags []Tag
}

type subnetSnapshot struct {
	subnet
	Tags      []Tag
	Available int
}

type groupSnapshot struct {
	securityGroup
	Tags []Tag
}

// maxTags is how many tags one resource may have.
const maxTags = 50

// validateTag returns InvalidParameterValue when t may not be created: an empty key, a key of
// more than 128 characters or a value of more than 256, or a key with the reserved aws: prefix.
func validateTag(t Tag) error {
	switch {
	case t.Key == "":
		return errorf(codeInvalidParameterValue, "Tag key must not be empty")
	case len([]rune(t.Key)) > 128:
		return errorf(codeInvalidParameterValue, "Value ( %s ) for parameter key is invalid. Length exceeds maximum of 128 characters.", t.Key)
	case len([]rune(t.Value)) > 256:
		return errorf(codeInvalidParameterValue, "Value ( %s ) for parameter value is invalid. Length exceeds maximum of 256 characters.", t.Value)
	case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
		return errorf(codeInvalidParameterValue, "Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", t.Key)
	}
	return nil
}

// checkMetadataTagKeys returns InvalidParameterValue for the first tag key an instance that
// allows tags in instance metadata may not have. The EC2 User Guide ("View tags for your EC2
// instances using instance metadata") restricts them, as they become paths under
// /latest/meta-data/tags/instance/: only letters a-z and A-Z, digits and + - = . , _ : @ (so no
// space or /), and not ".", ".." or "_index". AWS fails the launch or the change; the words of
// the message are the emulator's.
func checkMetadataTagKeys(tags []Tag) error {
	for _, t := range tags {
		ok := t.Key != "." && t.Key != ".." && t.Key != "_index"
		for _, c := range t.Key {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+-=.,_:@", c)) {
				ok = false
			}
		}
		if !ok {
			return errorf(codeInvalidParameterValue, "Value ( %s ) for parameter key is invalid. The tag keys of an instance that allows tags in instance metadata may hold only letters, digits and + - = . , _ : @, and may not be '.', '..' or '_index'.", t.Key)
		}
	}
	return nil
}

// profileID derives a stable id of the form IAM gives instance profiles (AIPA and 17 upper-case
// letters and digits) from the profile's ARN.
func profileID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "AIPA" + wire.AlnumOf(sum[:17])
}

// userInitiated is the state reason of an instance a user stopped or terminated.
func userInitiated() (code, message string) {
	return "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
}
