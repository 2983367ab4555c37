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

// createImage makes an image of an instance's volumes, through a snapshot of each: the image is
// pending, and available once PendingFor has passed. It takes what the image says of itself
// (architecture, boot mode, virtualization, root device) from the image the instance was
// launched from, and the volumes' sizes from the instance.
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
		size := inst.RootSize
		source := b.image(st, inst.ImageID)
		if size == 0 && source != nil { // launched before root sizes were recorded: the image's
			if root, ok := source.rootDevice(); ok {
				size = root.VolumeSize
			}
		}
		if size == 0 {
			size = publicRootSize
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
		im.Devices = []BlockDevice{{DeviceName: im.RootDeviceName, SnapshotID: snap.ID, VolumeSize: size, VolumeType: "gp3", DeleteOnTermination: !inst.RootKept}}
		st.Images = append(st.Images, im)
		st.Snapshots = append(st.Snapshots, snap)
		snaps := []string{snap.ID}
		for _, v := range inst.Volumes { // every attached volume, as CreateImage snapshots them all
			s := &snapshot{ID: st.newID(b.ids, "snap-"), VolumeID: v.ID, VolumeSize: v.Size, Description: snap.Description, StartTime: now}
			st.Snapshots = append(st.Snapshots, s)
			snaps = append(snaps, s.ID)
			im.Devices = append(im.Devices, BlockDevice{DeviceName: v.Device, SnapshotID: s.ID, VolumeSize: v.Size, VolumeType: v.Type, DeleteOnTermination: v.DeleteOnTermination})
		}
		if len(req.ImageTags) > 0 {
			st.Tags[im.ID] = slices.Clone(req.ImageTags)
		}
		if len(req.SnapshotTags) > 0 {
			for _, id := range snaps {
				st.Tags[id] = slices.Clone(req.SnapshotTags)
			}
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

// launchDisks is what a launch's volumes are: the root's size and whether it outlives the
// instance, and the volumes beyond it (without ids yet).
type launchDisks struct {
	rootSize int
	rootKept bool
	volumes  []volume
}

// snapshotSize returns the size of the snapshot with that id: one of the account's, or one behind
// Amazon's images; ok is false when there is none.
func (b *backend) snapshotSize(st *state, id string) (size int, ok bool) {
	if snap := st.snapshotByID(id); snap != nil {
		return snap.VolumeSize, true
	}
	for _, im := range b.catalog {
		for _, d := range im.Devices {
			if d.SnapshotID == id {
				return d.VolumeSize, true
			}
		}
	}
	return 0, false
}

// launchVolumes works out the volumes of an instance launched from im with the request's block
// device mappings over the image's: a mapping of one of the image's devices changes its size (no
// smaller than its snapshot), type or DeleteOnTermination, or with NoDevice drops it (not the
// root's); a mapping of another device adds an EBS volume, from a snapshot or empty, which must
// have a size or a snapshot.
//
// It returns InvalidBlockDeviceMapping for a mapping EC2 refuses, and InvalidSnapshot.NotFound
// for a snapshot that does not exist.
func (b *backend) launchVolumes(st *state, im Image, mappings []mapping) (launchDisks, error) {
	root, _ := im.rootDevice()
	disks := launchDisks{rootSize: root.VolumeSize, rootKept: !root.DeleteOnTermination && root.DeviceName != ""}
	if disks.rootSize == 0 {
		disks.rootSize = publicRootSize
	}
	var planned []BlockDevice // the image's devices beyond the root, then the request's
	for _, d := range im.Devices {
		if d.DeviceName != im.RootDeviceName && !d.NoDevice {
			planned = append(planned, d)
		}
	}
	for _, m := range mappings {
		if m.DeviceName == im.RootDeviceName {
			switch {
			case m.NoDevice:
				return launchDisks{}, errorf(codeInvalidBlockDeviceMapping, "The root device %s of the image may not be suppressed with NoDevice.", m.DeviceName)
			case m.SnapshotID != "" && m.SnapshotID != root.SnapshotID:
				return launchDisks{}, errorf(codeInvalidBlockDeviceMapping, "The snapshot of the root device %s may not be changed (the image's is %s).", m.DeviceName, root.SnapshotID)
			case m.VolumeSize > 0 && m.VolumeSize < disks.rootSize:
				return launchDisks{}, errorf(codeInvalidBlockDeviceMapping, "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", m.VolumeSize, root.SnapshotID, disks.rootSize)
			}
			if m.VolumeSize > 0 {
				disks.rootSize = m.VolumeSize
			}
			if m.deleteGiven {
				disks.rootKept = !m.DeleteOnTermination
			}
			continue
		}
		i := slices.IndexFunc(planned, func(d BlockDevice) bool { return d.DeviceName == m.DeviceName })
		if m.NoDevice {
			if i >= 0 {
				planned = slices.Delete(planned, i, i+1)
			}
			continue
		}
		d := m.BlockDevice
		if i >= 0 {
			image := planned[i]
			if d.SnapshotID == "" {
				d.SnapshotID = image.SnapshotID
			}
			if d.VolumeSize == 0 {
				d.VolumeSize = image.VolumeSize
			}
			if d.VolumeType == "" {
				d.VolumeType = image.VolumeType
			}
			if !m.deleteGiven {
				d.DeleteOnTermination = image.DeleteOnTermination
			}
		} else if err := m.needsSource(); err != nil {
			return launchDisks{}, err
		}
		if d.SnapshotID != "" {
			size, ok := b.snapshotSize(st, d.SnapshotID)
			switch {
			case !ok:
				return launchDisks{}, errorf(codeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", d.SnapshotID)
			case d.VolumeSize == 0:
				d.VolumeSize = size
			case d.VolumeSize < size:
				return launchDisks{}, errorf(codeInvalidBlockDeviceMapping, "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", d.VolumeSize, d.SnapshotID, size)
			}
		}
		if d.VolumeType == "" {
			d.VolumeType = "gp2"
		}
		if i >= 0 {
			planned[i] = d
		} else {
			planned = append(planned, d)
		}
	}
	for _, d := range planned {
		disks.volumes = append(disks.volumes, volume{Device: d.DeviceName, Size: d.VolumeSize, Type: d.VolumeType, SnapshotID: d.SnapshotID, DeleteOnTermination: d.DeleteOnTermination})
	}
	return disks, nil
}

// copySource returns the image CopyImage copies from this region, with its tags: one that is
// available, Amazon's or the account's.
//
// It returns InvalidAMIID.NotFound when there is no such image here, and
// InvalidAMIID.Unavailable when it is deregistered or still pending.
func (b *backend) copySource(ctx context.Context, now time.Time, id string) (im Image, tags []Tag, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		if im, err = b.launchable(st, id, now); err != nil {
			return err
		}
		tags = slices.Clone(st.Tags[id])
		return nil
	})
	return im, tags, err
}

// copyImageRequest is a checked CopyImage request, with its source image read.
type copyImageRequest struct {
	Source       Image
	SourceRegion string
	Name         string
	Description  string
	Encrypted    bool
	ImageTags    []Tag
	SnapshotTags []Tag
	ClientToken  string
	Fingerprint  string // of every parameter but the token
}

// copyImage makes, in this region, an image of the account's that copies req.Source and a
// snapshot of each of its volumes: pending, then available once PendingFor has passed, as
// CreateImage's. With a ClientToken seen before it copies nothing and returns the image that
// token made.
//
// It returns IdempotentParameterMismatch when the token was used with other parameters, and
// InvalidAMIName.Duplicate when one of the account's images here has that name.
func (b *backend) copyImage(ctx context.Context, now time.Time, req copyImageRequest) (id string, err error) {
	err = b.doc.Update(ctx, func(st *state) error {
		if prior, ok := st.CopyTokens[req.ClientToken]; ok && req.ClientToken != "" {
			if prior.Fingerprint != req.Fingerprint {
				return errorf(codeIdempotentParameterMismatch, "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
			}
			id = prior.ReservationID
			return nil
		}
		if err := uniqueImageName(st, req.Name); err != nil {
			return err
		}
		im := req.Source
		im.ID = st.newID(b.ids, "ami-")
		im.Name, im.Description = req.Name, req.Description
		im.OwnerID, im.OwnerAlias, im.Public, im.Parameters = "", "", false, nil
		im.CreationDate, im.State = now, imagePending
		im.SourceInstanceID, im.SourceImageID, im.SourceImageRegion = "", req.Source.ID, req.SourceRegion
		im.Devices = slices.Clone(req.Source.Devices)
		for i := range im.Devices {
			d := &im.Devices[i]
			if d.NoDevice {
				continue
			}
			snap := &snapshot{ID: st.newID(b.ids, "snap-"), VolumeSize: d.VolumeSize, StartTime: now,
				Description: "Copied for DestinationAmi " + im.ID + " from SourceAmi " + req.Source.ID + " for SourceSnapshot " + d.SnapshotID}
			st.Snapshots = append(st.Snapshots, snap)
			d.SnapshotID = snap.ID
			d.Encrypted = d.Encrypted || req.Encrypted
			if len(req.SnapshotTags) > 0 {
				st.Tags[snap.ID] = slices.Clone(req.SnapshotTags)
			}
		}
		st.Images = append(st.Images, &im)
		if len(req.ImageTags) > 0 {
			st.Tags[im.ID] = slices.Clone(req.ImageTags)
		}
		if req.ClientToken != "" {
			if st.CopyTokens == nil {
				st.CopyTokens = map[string]*clientToken{}
			}
			st.CopyTokens[req.ClientToken] = &clientToken{Fingerprint: req.Fingerprint, ReservationID: im.ID}
		}
		id = im.ID
		return nil
	})
	return id, err
}
