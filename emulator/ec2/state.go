package ec2

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// state is everything the emulated EC2 of one account and region holds. It is one JSON document
// in the state directory; the sequence counters in it make seeded ids reproducible across
// processes.
type state struct {
	Region         string                  `json:"region"` // "" in a state written before regions
	Seq            map[string]uint64       `json:"seq"`
	DHCPOptionsID  string                  `json:"dhcpOptionsId,omitempty"` // the account's default set
	VPCs           []*vpc                  `json:"vpcs"`
	Subnets        []*subnet               `json:"subnets"`
	SecurityGroups []*securityGroup        `json:"securityGroups"`
	Reservations   []*reservation          `json:"reservations"`
	Instances      []*instance             `json:"instances"` // in launch order
	Tags           map[string][]Tag        `json:"tags"`      // by resource id, in creation order
	ClientTokens   map[string]*clientToken `json:"clientTokens"`
	// Images are the account's own images, in creation order; a deregistered one stays, so
	// that a launch from it can say so.
	Images    []*Image    `json:"images,omitempty"`
	Snapshots []*snapshot `json:"snapshots,omitempty"`
	// CopyTokens remembers each CopyImage that carried a ClientToken: a fingerprint of its other
	// parameters, and the image it made (in ReservationID's place).
	CopyTokens map[string]*clientToken `json:"copyTokens,omitempty"`
}

// snapshot is an EBS snapshot, of an instance's root volume taken by CreateImage.
type snapshot struct {
	ID          string    `json:"id"`
	VolumeID    string    `json:"volumeId"`
	VolumeSize  int       `json:"volumeSize"` // GiB
	Description string    `json:"description"`
	StartTime   time.Time `json:"startTime"`
}

type vpc struct {
	ID            string `json:"id"`
	CIDR          string `json:"cidr"`
	IsDefault     bool   `json:"isDefault"`
	DHCPOptionsID string `json:"dhcpOptionsId"`
	AssociationID string `json:"associationId"`
	Tenancy       string `json:"tenancy,omitempty"` // "" = default
}

type subnet struct {
	ID               string `json:"id"`
	VpcID            string `json:"vpcId"`
	CIDR             string `json:"cidr"`
	AvailabilityZone string `json:"availabilityZone"`
	DefaultForAZ     bool   `json:"defaultForAz"`
}

type securityGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	VpcID       string `json:"vpcId"`
}

// reservation is one successful RunInstances: its instances share its id.
type reservation struct {
	ID          string   `json:"id"`
	InstanceIDs []string `json:"instanceIds"`
}

// clientToken remembers a RunInstances that carried a ClientToken: a fingerprint of its other
// parameters, and the reservation it made.
type clientToken struct {
	Fingerprint   string `json:"fingerprint"`
	ReservationID string `json:"reservationId"`
}

// instance is one launched instance. State is the state it was last put in, at Since; the
// transitional states (pending, stopping, shutting-down) end by themselves once
// Options.PendingFor has passed, which current computes.
type instance struct {
	ID               string           `json:"id"`
	Seq              uint64           `json:"seq"` // launch order, for pagination
	ReservationID    string           `json:"reservationId"`
	LaunchIndex      int              `json:"launchIndex"`
	ImageID          string           `json:"imageId"`
	InstanceType     string           `json:"instanceType"`
	Architecture     string           `json:"architecture"`
	KeyName          string           `json:"keyName,omitempty"`
	State            string           `json:"state"`
	Since            time.Time        `json:"since"`
	Ran              bool             `json:"ran"` // has been running at least once
	Reason           string           `json:"reason,omitempty"`
	LaunchTime       time.Time        `json:"launchTime"`
	PrivateIP        string           `json:"privateIp"`
	PublicIP         string           `json:"publicIp,omitempty"` // from a subnet that maps one on launch
	SubnetID         string           `json:"subnetId"`
	VpcID            string           `json:"vpcId"`
	AvailabilityZone string           `json:"availabilityZone"`
	GroupIDs         []string         `json:"groupIds"`
	ClientToken      string           `json:"clientToken,omitempty"`
	UserData         []byte           `json:"userData,omitempty"`
	Profile          *instanceProfile `json:"profile,omitempty"`
	Metadata         metadataOptions  `json:"metadata"`
	NetworkInterface string           `json:"networkInterface"`
	Attachment       string           `json:"attachment"`
	InterfaceKept    bool             `json:"interfaceKept,omitempty"` // its DeleteOnTermination is false
	InterfaceDesc    string           `json:"interfaceDescription,omitempty"`
	MAC              string           `json:"mac"`
	Volume           string           `json:"volume"` // the root volume
	RootDevice       string           `json:"rootDevice"`
	RootSize         int              `json:"rootSize,omitempty"` // GiB; 0 in a state written before: the image's
	RootKept         bool             `json:"rootKept,omitempty"` // the root volume's DeleteOnTermination is false
	Volumes          []volume         `json:"volumes,omitempty"`  // the volumes beyond the root, as mapped
	BootMode         string           `json:"bootMode,omitempty"`
	ShutdownBehavior string           `json:"shutdownBehavior"`
	NoTermination    bool             `json:"disableApiTermination,omitempty"`
	NoStop           bool             `json:"disableApiStop,omitempty"`
	EBSOptimized     bool             `json:"ebsOptimized,omitempty"`
	Monitoring       bool             `json:"monitoring,omitempty"`
}

// volume is an EBS volume attached to an instance at launch, beyond its root volume.
type volume struct {
	Device              string `json:"device"`
	ID                  string `json:"id"`
	Size                int    `json:"size"` // GiB
	Type                string `json:"type"`
	SnapshotID          string `json:"snapshotId,omitempty"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
}

// volumeIDs returns the ids of inst's volumes, the root's first.
func (inst *instance) volumeIDs() []string {
	ids := []string{inst.Volume}
	for _, v := range inst.Volumes {
		ids = append(ids, v.ID)
	}
	return ids
}

type instanceProfile struct {
	ARN string `json:"arn"`
	ID  string `json:"id"`
}

type metadataOptions struct {
	HTTPTokens   string `json:"httpTokens"`   // optional | required
	HTTPEndpoint string `json:"httpEndpoint"` // enabled | disabled
	HopLimit     int    `json:"hopLimit"`
	Tags         string `json:"tags"` // enabled | disabled
	ProtocolIPv6 string `json:"protocolIpv6"`
}

// Instance states and the codes EC2 gives them.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

func stateCode(name string) int {
	switch name {
	case statePending:
		return 0
	case stateRunning:
		return 16
	case stateShuttingDown:
		return 32
	case stateTerminated:
		return 48
	case stateStopping:
		return 64
	case stateStopped:
		return 80
	}
	return -1
}

// settlesTo returns the state a transitional state ends in.
func settlesTo(name string) (string, bool) {
	switch name {
	case statePending:
		return stateRunning, true
	case stateStopping:
		return stateStopped, true
	case stateShuttingDown:
		return stateTerminated, true
	}
	return "", false
}

// lifecycle holds the Options that time an instance's life.
type lifecycle struct {
	pendingFor    time.Duration
	terminatedFor time.Duration
}

// current returns the state inst is in at now, and since when.
func (l lifecycle) current(inst *instance, now time.Time) (string, time.Time) {
	if next, ok := settlesTo(inst.State); ok {
		if end := inst.Since.Add(l.pendingFor); !now.Before(end) {
			return next, end
		}
	}
	return inst.State, inst.Since
}

// gone reports whether inst has been terminated long enough to have disappeared.
func (l lifecycle) gone(inst *instance, now time.Time) bool {
	st, since := l.current(inst, now)
	return st == stateTerminated && !now.Before(since.Add(l.terminatedFor))
}

// settle records in st every transition that has completed by now, and forgets the instances
// that have been terminated for longer than terminatedFor.
func (l lifecycle) settle(st *state, now time.Time) {
	kept := st.Instances[:0]
	gone := map[string]bool{}
	for _, inst := range st.Instances {
		if l.gone(inst, now) {
			gone[inst.ID] = true
			delete(st.Tags, inst.ID)
			for _, id := range inst.volumeIDs() {
				delete(st.Tags, id)
			}
			delete(st.Tags, inst.NetworkInterface)
			continue
		}
		if name, since := l.current(inst, now); name != inst.State {
			inst.State, inst.Since = name, since
			if name == stateRunning {
				inst.Ran = true
			}
		}
		kept = append(kept, inst)
	}
	st.Instances = kept
	if len(gone) == 0 {
		return
	}
	reservations := st.Reservations[:0]
	for _, r := range st.Reservations {
		ids := r.InstanceIDs[:0]
		for _, id := range r.InstanceIDs {
			if !gone[id] {
				ids = append(ids, id)
			}
		}
		r.InstanceIDs = ids
		if len(ids) > 0 {
			reservations = append(reservations, r)
		}
	}
	st.Reservations = reservations
}

// newID returns the next id of kind, e.g. "i-" and 17 hex digits.
func (st *state) newID(ids wire.IDs, prefix string) string {
	return prefix + ids.Hex(prefix, st.next(prefix), 17)
}

// next returns the next sequence number of kind.
func (st *state) next(kind string) uint64 {
	if st.Seq == nil {
		st.Seq = map[string]uint64{}
	}
	st.Seq[kind]++
	return st.Seq[kind]
}

// defaultVPCCIDR is the range of every account's default VPC; each default subnet is a /20 of it.
const defaultVPCCIDR = "172.31.0.0/16"

// defaultZones is how many availability zones (REGIONa, REGIONb, ...) the emulated region has;
// each has a default subnet.
const defaultZones = 3

// zones returns the availability zones of region.
func zones(region string) []string {
	out := make([]string, defaultZones)
	for i := range out {
		out[i] = fmt.Sprintf("%s%c", region, 'a'+i)
	}
	return out
}

// zoneID returns the availability zone id of zone, one of region's zones: the region's short
// code, "-az" and the zone's number, e.g. use1-az1 for us-east-1a, euw1-az2 for eu-west-1b,
// apne1-az3 for ap-northeast-1c. AWS maps names to ids differently in each account; here the
// n-th zone is always azN.
func zoneID(region, zone string) string {
	if zone == "" {
		return ""
	}
	code := ""
	for i, part := range strings.Split(region, "-") {
		switch {
		case i == 0:
			code = part // us, eu, ap, ...
		case part[0] >= '0' && part[0] <= '9':
			code += part
		default:
			// east, west, north, south, central, and their pairs (northeast, ...): initials.
			for _, word := range []string{"north", "south", "east", "west", "central"} {
				if strings.HasPrefix(part, word) {
					code += word[:1]
					part = part[len(word):]
				}
			}
			for _, word := range []string{"east", "west"} {
				if part == word {
					code += word[:1]
				}
			}
		}
	}
	return fmt.Sprintf("%s-az%d", code, int(zone[len(zone)-1]-'a')+1)
}

// initialState makes what a new account has in a region: a default VPC with one default subnet
// per availability zone, and its default security group.
func initialState(ids wire.IDs, region string) func(*state) {
	return func(st *state) {
		st.Region = region
		st.Seq = map[string]uint64{}
		st.Tags = map[string][]Tag{}
		st.ClientTokens = map[string]*clientToken{}
		v := &vpc{
			ID:            st.newID(ids, "vpc-"),
			CIDR:          defaultVPCCIDR,
			IsDefault:     true,
			DHCPOptionsID: st.newID(ids, "dopt-"),
			AssociationID: st.newID(ids, "vpc-cidr-assoc-"),
		}
		st.DHCPOptionsID = v.DHCPOptionsID
		st.VPCs = append(st.VPCs, v)
		base := netip.MustParsePrefix(defaultVPCCIDR).Addr().As4()
		for i, zone := range zones(region) {
			cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], byte(16 * i), 0}), 20)
			st.Subnets = append(st.Subnets, &subnet{
				ID:               st.newID(ids, "subnet-"),
				VpcID:            v.ID,
				CIDR:             cidr.String(),
				AvailabilityZone: zone,
				DefaultForAZ:     true,
			})
		}
		st.addDefaultGroup(ids, v.ID)
	}
}

// zonesRegion returns the region of a state written before states recorded theirs: the region of
// its default subnets' zones (us-east-1a is us-east-1's), or fallback when it has none.
func (st *state) zonesRegion(fallback string) string {
	for _, sub := range st.Subnets {
		if region := strings.TrimRight(sub.AvailabilityZone, "abcdefghijklmnopqrstuvwxyz"); sub.DefaultForAZ && wire.KnownRegion(region) && region != sub.AvailabilityZone {
			return region
		}
	}
	return fallback
}

// addDefaultGroup gives the VPC vpcID its default security group, as EC2 does for every VPC.
func (st *state) addDefaultGroup(ids wire.IDs, vpcID string) {
	st.SecurityGroups = append(st.SecurityGroups, &securityGroup{
		ID:          st.newID(ids, "sg-"),
		Name:        "default",
		Description: "default VPC security group",
		VpcID:       vpcID,
	})
}

// dhcpOptions returns the id of the account's default DHCP options set, which every new VPC gets.
// A state written before it was recorded takes the default VPC's.
func (st *state) dhcpOptions(ids wire.IDs) string {
	if st.DHCPOptionsID == "" {
		for _, v := range st.VPCs {
			if v.IsDefault {
				st.DHCPOptionsID = v.DHCPOptionsID
			}
		}
	}
	if st.DHCPOptionsID == "" {
		st.DHCPOptionsID = st.newID(ids, "dopt-")
	}
	return st.DHCPOptionsID
}

// defaultVPC returns the account's default VPC, or nil when it has been deleted.
func (st *state) defaultVPC() *vpc {
	for _, v := range st.VPCs {
		if v.IsDefault {
			return v
		}
	}
	return nil
}

// instanceByID returns the instance with that id, or nil.
func (st *state) instanceByID(id string) *instance {
	for _, inst := range st.Instances {
		if inst.ID == id {
			return inst
		}
	}
	return nil
}

func (st *state) subnetByID(id string) *subnet {
	for _, s := range st.Subnets {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (st *state) vpcByID(id string) *vpc {
	for _, v := range st.VPCs {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (st *state) groupByID(id string) *securityGroup {
	for _, g := range st.SecurityGroups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// ownImage returns the account's own image with that id, deregistered or not, or nil.
func (st *state) ownImage(id string) *Image {
	for _, im := range st.Images {
		if im.ID == id {
			return im
		}
	}
	return nil
}

func (st *state) snapshotByID(id string) *snapshot {
	for _, s := range st.Snapshots {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (st *state) reservationByID(id string) *reservation {
	for _, r := range st.Reservations {
		if r.ID == id {
			return r
		}
	}
	return nil
}
