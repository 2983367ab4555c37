package ec2

import (
	"context"
	"slices"
	"time"
)

// This file is the backend of images: Amazon's catalog, which is fixed, and the account's own,
// which CreateImage and RegisterImage add to the state and DeregisterImage retires.

// imageSnapshot is an image as DescribeImages shows it at the time of a request: a copy, in the
// state it is in, with its owner and tags.
type imageSnapshot struct {
	Image
	Owner string
	Tags  []Tag
}

// image returns the image with that id, in the catalog or among the account's own (deregistered
// ones too); nil when there is none.
func (b *backend) image(st *state, id string) *Image {
	for i := range b.catalog {
		if b.catalog[i].ID == id {
			return &b.catalog[i]
		}
	}
	return st.ownImage(id)
}

// imageSnap is im as it is at now.
func (b *backend) imageSnap(st *state, im *Image, now time.Time) imageSnapshot {
	snap := imageSnapshot{Image: *im, Owner: im.OwnerID, Tags: slices.Clone(st.Tags[im.ID])}
	snap.State = im.stateAt(now, b.life.pendingFor)
	snap.Devices = slices.Clone(im.Devices)
	if snap.Owner == "" {
		snap.Owner = b.account
	}
	return snap
}

// launchable returns the image a launch names, as it is at now.
//
// It returns InvalidAMIID.NotFound when there is no image with that id, and
// InvalidAMIID.Unavailable when it has been deregistered or is still pending.
func (b *backend) launchable(st *state, id string, now time.Time) (Image, error) {
	im := b.image(st, id)
	if im == nil {
		return Image{}, imagesNotFound([]string{id})
	}
	switch im.stateAt(now, b.life.pendingFor) {
	case imageAvailable:
		return *im, nil
	case imageDeregistered:
		return Image{}, errorf(codeInvalidAMIIDUnavailable, "The image id '[%s]' is no longer available", id)
	}
	return Image{}, errorf(codeInvalidAMIIDUnavailable, "The image id '[%s]' is not in a state from which instances can be launched (%s)", id, im.stateAt(now, b.life.pendingFor))
}

// launchImage returns the image with that id, for RunInstances to check its parameters against
// before it launches (run checks it again under the lock).
func (b *backend) launchImage(ctx context.Context, now time.Time, id string) (im Image, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		im, err = b.launchable(st, id, now)
		return err
	})
	return im, err
}

// images returns the catalog's images and the account's own that are not deregistered, in that
// order, as they are at now.
func (b *backend) images(ctx context.Context, now time.Time) (out []imageSnapshot, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		for i := range b.catalog {
			out = append(out, b.imageSnap(st, &b.catalog[i], now))
		}
		for _, im := range st.Images {
			if im.State != imageDeregistered {
				out = append(out, b.imageSnap(st, im, now))
			}
		}
		return nil
	})
	return out, err
}

// deregistered reports which of ids name the account's images that have been deregistered.
func (b *backend) deregistered(ctx context.Context, ids []string) (gone map[string]bool, err error) {
	gone = map[string]bool{}
	err = b.doc.View(ctx, func(st *state) error {
		for _, id := range ids {
			if im := st.ownImage(id); im != nil && im.State == imageDeregistered {
				gone[id] = true
			}
		}
		return nil
	})
	return gone, err
}

// createImageRequest is a checked CreateImage request.
type createImageRequest struct {
	InstanceID   string
	Name         string
	Description  string
	ImageTags    []Tag
	SnapshotTags []Tag
}

// createImage makes an image of an instance's root volume, through a snapshot of it: the image
// is pending, and available once PendingFor has passed. It takes what the image says of itself
// (architecture, boot mode, virtualization, root device and its size) from the image the
// instance was launched from.
//
// It returns InvalidInstanceID.NotFound, IncorrectInstanceState for an instance neither running
// nor stopped, and InvalidAMIName.Duplicate when one of the account's images has that name.
func (b *backend) createImage(ctx context.Context, now time.Time, req createImageRequest) (id string, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		b.life.settle(st, now)
		inst := st.instanceByID(req.InstanceID)
		if inst == nil {
			return instancesNotFound([]string{req.InstanceID})
		}
		if inst.State != stateRunning && inst.State != stateStopped {
			return errorf(codeIncorrectInstanceState, "The instance '%s' is not in a state from which an image can be created: it is %s.", inst.ID, inst.State)
		}
		if err := uniqueImageName(st, req.Name); err != nil {
			return err
		}
		size := publicRootSize
		source := b.image(st, inst.ImageID)
		if source != nil {
			if root, ok := source.rootDevice(); ok && root.VolumeSize > 0 {
				size = root.VolumeSize
			}
		}
		im := &Image{
			ID:                 st.newID(b.ids, "ami-"),
			Name:               req.Name,
			Description:        req.Description,
			Architecture:       inst.Architecture,
			CreationDate:       now,
			RootDeviceName:     inst.RootDevice,
			BootMode:           inst.BootMode,
			State:              imagePending,
			SourceInstanceID:   inst.ID,
			VirtualizationType: "hvm",
		}
		if source != nil {
			im.VirtualizationType, im.ENASupport, im.SriovNetSupport = source.VirtualizationType, source.ENASupport, source.SriovNetSupport
		}
		snap := &snapshot{
			ID:          st.newID(b.ids, "snap-"),
			VolumeID:    inst.Volume,
			VolumeSize:  size,
			Description: "Created by CreateImage(" + inst.ID + ") for " + im.ID,
			StartTime:   now,
		}
		im.Devices = []BlockDevice{{DeviceName: im.RootDeviceName, SnapshotID: snap.ID, VolumeSize: size, VolumeType: "gp3", DeleteOnTermination: true}}
		st.Images = append(st.Images, im)
		st.Snapshots = append(st.Snapshots, snap)
		if len(req.ImageTags) > 0 {
			st.Tags[im.ID] = slices.Clone(req.ImageTags)
		}
		if len(req.SnapshotTags) > 0 {
			st.Tags[snap.ID] = slices.Clone(req.SnapshotTags)
		}
		id = im.ID
		return nil
	})
	return id, err
}

// uniqueImageName returns InvalidAMIName.Duplicate when one of the account's images that is not
// deregistered has that name.
func uniqueImageName(st *state, name string) error {
	for _, im := range st.Images {
		if im.Name == name && im.State != imageDeregistered {
			return errorf(codeInvalidAMINameDuplicate, "AMI name %s is already in use by AMI %s", name, im.ID)
		}
	}
	return nil
}

// registerImage adds im, an image of the account made from snapshots it has, available at once.
// A mapping without a size takes its snapshot's.
//
// It returns InvalidAMIName.Duplicate when one of the account's images has im's name, and
// InvalidSnapshot.NotFound for a snapshot that does not exist.
func (b *backend) registerImage(ctx context.Context, now time.Time, im Image, tags []Tag) (id string, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		if err := uniqueImageName(st, im.Name); err != nil {
			return err
		}
		im.Devices = slices.Clone(im.Devices)
		for i := range im.Devices {
			d := &im.Devices[i]
			if d.SnapshotID == "" {
				continue
			}
			snap := st.snapshotByID(d.SnapshotID)
			if snap == nil {
				return errorf(codeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", d.SnapshotID)
			}
			if d.VolumeSize == 0 {
				d.VolumeSize = snap.VolumeSize
			}
			if d.VolumeSize < snap.VolumeSize {
				return errorf(codeInvalidBlockDeviceMapping, "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", d.VolumeSize, snap.ID, snap.VolumeSize)
			}
		}
		im.ID = st.newID(b.ids, "ami-")
		im.CreationDate = now
		im.State = imageAvailable
		st.Images = append(st.Images, &im)
		if len(tags) > 0 {
			st.Tags[im.ID] = slices.Clone(tags)
		}
		id = im.ID
		return nil
	})
	return id, err
}

// deregisterImage retires one of the account's images: no instance can be launched from it any
// more, DescribeImages no longer shows it, its tags go; its snapshots and the instances launched
// from it stay, as on AWS.
//
// It returns InvalidAMIID.NotFound when there is no image with that id, InvalidAMIID.Unavailable
// when it has already been deregistered, and AuthFailure for an image of another account.
func (b *backend) deregisterImage(ctx context.Context, id string) error {
	return b.doc.Update(ctx, func(st *state) error {
		im := b.image(st, id)
		switch {
		case im == nil:
			return imagesNotFound([]string{id})
		case im.OwnerID != "" && im.OwnerID != b.account:
			return errorf(codeAuthFailure, "Not authorized for image:%s", id)
		case im.State == imageDeregistered:
			return errorf(codeInvalidAMIIDUnavailable, "The image id '[%s]' is no longer available", id)
		}
		im.State = imageDeregistered
		delete(st.Tags, id)
		return nil
	})
}
