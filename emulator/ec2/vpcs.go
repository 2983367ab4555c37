package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// This file is the backend of the VPCs and subnets one creates and deletes; the default VPC is
// made by initialState.

// The sizes EC2 allows for the IPv4 block of a VPC and of a subnet.
const (
	largestBlock  = 16
	smallestBlock = 28
)

// vpcRequest is a checked CreateVpc request.
type vpcRequest struct {
	CIDR    netip.Prefix // IPv4, masked, /16 to /28
	Tenancy string       // default | dedicated
	Tags    []Tag
}

// createVPC makes a VPC with its own default security group and the account's default DHCP
// options. It cannot fail but for the state store.
func (b *backend) createVPC(ctx context.Context, now time.Time, req vpcRequest) (snap vpcSnapshot, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		v := &vpc{
			ID:            st.newID(b.ids, "vpc-"),
			CIDR:          req.CIDR.String(),
			DHCPOptionsID: st.dhcpOptions(b.ids),
			AssociationID: st.newID(b.ids, "vpc-cidr-assoc-"),
		}
		if req.Tenancy != "default" {
			v.Tenancy = req.Tenancy
		}
		st.VPCs = append(st.VPCs, v)
		st.addDefaultGroup(b.ids, v.ID)
		if len(req.Tags) > 0 {
			st.Tags[v.ID] = slices.Clone(req.Tags)
		}
		snap = vpcSnapshot{vpc: *v, Tags: slices.Clone(req.Tags)}
		return nil
	})
	return snap, err
}

// subnetRequest is a checked CreateSubnet request.
type subnetRequest struct {
	VpcID            string
	CIDR             netip.Prefix // IPv4, masked
	AvailabilityZone string       // "" = one of the region's zones
	Tags             []Tag
}

// createSubnet makes a subnet of a VPC.
//
// It returns InvalidVpcID.NotFound when the VPC does not exist, InvalidParameterValue for a zone
// that is not one of the region's, InvalidSubnet.Range when the block is not a /16 to /28 inside
// the VPC's, and InvalidSubnet.Conflict when it overlaps another subnet of the VPC.
func (b *backend) createSubnet(ctx context.Context, now time.Time, req subnetRequest) (snap subnetSnapshot, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		v := st.vpcByID(req.VpcID)
		if v == nil {
			return errorf(codeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", req.VpcID)
		}
		zone := req.AvailabilityZone
		all := zones(b.region)
		if zone == "" {
			zone = all[b.ids.Int("az", st.next("az"), len(all))]
		} else if !slices.Contains(all, zone) {
			return errorf(codeInvalidParameterValue, "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", zone, strings.Join(all, ", "))
		}
		block := netip.MustParsePrefix(v.CIDR)
		if req.CIDR.Bits() < largestBlock || req.CIDR.Bits() > smallestBlock ||
			req.CIDR.Bits() < block.Bits() || !block.Contains(req.CIDR.Addr()) {
			return errorf(codeInvalidSubnetRange, "The CIDR '%s' is invalid.", req.CIDR)
		}
		for _, other := range st.Subnets {
			if other.VpcID == v.ID && netip.MustParsePrefix(other.CIDR).Overlaps(req.CIDR) {
				return errorf(codeInvalidSubnetConflict, "The CIDR '%s' conflicts with another subnet", req.CIDR)
			}
		}
		sub := &subnet{
			ID:               st.newID(b.ids, "subnet-"),
			VpcID:            v.ID,
			CIDR:             req.CIDR.String(),
			AvailabilityZone: zone,
		}
		st.Subnets = append(st.Subnets, sub)
		if len(req.Tags) > 0 {
			st.Tags[sub.ID] = slices.Clone(req.Tags)
		}
		snap = subnetSnapshot{subnet: *sub, Tags: slices.Clone(req.Tags), Available: b.life.availableAddresses(st, sub, now)}
		return nil
	})
	return snap, err
}

// deleteSubnet deletes a subnet and its tags.
//
// It returns InvalidSubnetID.NotFound when there is no such subnet, and DependencyViolation while
// an instance that is not terminated is in it.
func (b *backend) deleteSubnet(ctx context.Context, now time.Time, id string) error {
	return b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		if st.subnetByID(id) == nil {
			return errorf(codeInvalidSubnetIDNotFound, "The subnet ID '%s' does not exist", id)
		}
		for _, inst := range st.Instances {
			if inst.SubnetID == id && inst.State != stateTerminated {
				return errorf(codeDependencyViolation, "The subnet '%s' has dependencies and cannot be deleted.", id)
			}
		}
		st.Subnets = slices.DeleteFunc(st.Subnets, func(s *subnet) bool { return s.ID == id })
		delete(st.Tags, id)
		return nil
	})
}

// deleteVPC deletes a VPC with its default security group, and their tags. The default VPC can be
// deleted too, as on AWS; launching without a subnet then fails.
//
// It returns InvalidVpcID.NotFound when there is no such VPC, and DependencyViolation while it has
// a subnet.
func (b *backend) deleteVPC(ctx context.Context, now time.Time, id string) error {
	return b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		if st.vpcByID(id) == nil {
			return errorf(codeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", id)
		}
		for _, s := range st.Subnets {
			if s.VpcID == id {
				return errorf(codeDependencyViolation, "The vpc '%s' has dependencies and cannot be deleted.", id)
			}
		}
		st.SecurityGroups = slices.DeleteFunc(st.SecurityGroups, func(g *securityGroup) bool {
			if g.VpcID == id {
				delete(st.Tags, g.ID)
				return true
			}
			return false
		})
		st.VPCs = slices.DeleteFunc(st.VPCs, func(v *vpc) bool { return v.ID == id })
		delete(st.Tags, id)
		return nil
	})
}
