package route53

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"
)

// vpcRegions returns the regions a VPC may be said to be in: botocore's VPCRegion enumeration, in
// the model's order.
func vpcRegions() []string {
	return strings.Fields(`us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-west-2 eu-west-3
		eu-central-1 eu-central-2 ap-east-1 me-south-1 us-gov-west-1 us-gov-east-1 us-iso-east-1
		us-iso-west-1 us-isob-east-1 me-central-1 ap-southeast-1 ap-southeast-2 ap-southeast-3
		ap-south-1 ap-south-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 eu-north-1 sa-east-1
		ca-central-1 cn-north-1 cn-northwest-1 af-south-1 eu-south-1 eu-south-2 ap-southeast-4
		il-central-1 ca-west-1 ap-southeast-5 mx-central-1 us-isof-south-1 us-isof-east-1
		ap-southeast-7 ap-east-2 eu-isoe-west-1 ap-southeast-6 us-isob-west-1 eusc-de-east-1`)
}

// maxVPCIDLength is the model's bound on a VPCId.
const maxVPCIDLength = 1024

// checkVPC checks a VPC as given in a request (the VPC element of a body, or ListHostedZonesByVPC's
// vpcid and vpcregion): both the id and the region present, the id within the model's length,
// the region one of the model's. It returns InvalidInput otherwise. Whether the VPC exists is
// not its concern.
func checkVPC(v vpc) error {
	switch {
	case v.ID == "" || v.Region == "":
		return errorf(codeInvalidInput, "Invalid request: a VPC with both VPCId and VPCRegion is required")
	case utf8.RuneCountInString(v.ID) > maxVPCIDLength:
		return errorf(codeInvalidInput, "Invalid request: VPCId is %d characters long, longer than the %d allowed", utf8.RuneCountInString(v.ID), maxVPCIDLength)
	case !slices.Contains(vpcRegions(), v.Region):
		return errorf(codeInvalidInput, "Invalid request: VPCRegion '%s' is not one of [%s]", v.Region, strings.Join(vpcRegions(), ", "))
	}
	return nil
}

// maxZoneAuthorizations is how many VPC association authorizations a zone can hold, Route 53's
// quota.
const maxZoneAuthorizations = 100

// authorizeVPC records that v may be associated with the private zone id. Authorizing a VPC
// already authorized changes nothing. It returns NoSuchHostedZone when there is no such zone,
// InvalidInput for a public zone (a VPC is only ever associated with a private one),
// InvalidVPCId when the VPC does not exist in its region, and
// TooManyVPCAssociationAuthorizations when the zone already holds 100.
func (b *backend) authorizeVPC(ctx context.Context, id string, v vpc) error {
	check := func(st *state) error {
		z, ok := st.Zones[id]
		switch {
		case !ok:
			return noSuchHostedZone(id)
		case !z.Private:
			return errorf(codeInvalidInput, "Invalid input: the hosted zone %s is a public hosted zone; only a private hosted zone can be associated with a VPC", id)
		}
		return nil
	}
	if err := b.doc.View(ctx, check); err != nil {
		return err
	}
	if err := b.vpcMustExist(ctx, v); err != nil {
		return err
	}
	return b.doc.Update(ctx, func(st *state) error {
		if err := check(st); err != nil { // the zone may have changed since
			return err
		}
		z := st.Zones[id]
		i, found := slices.BinarySearchFunc(z.Authorizations, v, compareVPCs)
		switch {
		case found:
			return nil
		case len(z.Authorizations) >= maxZoneAuthorizations:
			return errorf(codeTooManyVPCAssociationAuthorizations, "The hosted zone %s already has %d VPC association authorizations, the most a hosted zone can have.", id, maxZoneAuthorizations)
		}
		z.Authorizations = slices.Insert(z.Authorizations, i, v)
		return nil
	})
}

// deauthorizeVPC removes the authorization of v from the zone id; an association already made
// stays. It returns NoSuchHostedZone when there is no such zone and
// VPCAssociationAuthorizationNotFound when v is not authorized. Whether the VPC still exists
// does not matter.
func (b *backend) deauthorizeVPC(ctx context.Context, id string, v vpc) error {
	return b.doc.Update(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		i, found := slices.BinarySearchFunc(z.Authorizations, v, compareVPCs)
		if !found {
			return errorf(codeVPCAssociationAuthorizationNotFound, "The VPC that you specified is not authorized to be associated with the hosted zone.")
		}
		z.Authorizations = slices.Delete(z.Authorizations, i, i+1)
		return nil
	})
}

// compareVPCs orders VPCs by id, then region: the order authorizations are kept and listed in.
func compareVPCs(a, b vpc) int {
	return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Region, b.Region))
}

// listAuthorizations returns up to max of the VPCs authorized for the zone id, in order of VPC
// id then region, from the first one at or after start (nil: from the first), and the next one
// when there are more. It returns NoSuchHostedZone when there is no such zone.
func (b *backend) listAuthorizations(ctx context.Context, id string, start *vpc, max int) (vpcs []vpc, next *vpc, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		i := 0
		if start != nil {
			i, _ = slices.BinarySearchFunc(z.Authorizations, *start, compareVPCs)
		}
		for ; i < len(z.Authorizations); i++ {
			if len(vpcs) == max {
				v := z.Authorizations[i]
				next = &v
				break
			}
			vpcs = append(vpcs, z.Authorizations[i])
		}
		return nil
	})
	return vpcs, next, err
}

// zonesByVPC returns up to max of the private zones v is associated with, in order of id, from
// the first whose id is at least start, and the id of the next one when there are more.
func (b *backend) zonesByVPC(ctx context.Context, v vpc, start string, max int) (zones []zoneSummary, next string, err error) {
	return b.zonePage(ctx, start, max, func(z *hostedZone) bool { return z.Private && slices.Contains(z.VPCs, v) })
}

// pageToken is an opaque NextToken naming where a listing resumes: its parts joined and
// encoded, so that a client passes it back unread.
func pageToken(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\n")))
}

// readPageToken decodes a NextToken made by pageToken with n parts whose first parts are
// scope (the listing it was made for). It returns InvalidPaginationToken for anything else: a
// token altered, or made for another VPC or zone.
func readPageToken(token string, n int, scope ...string) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	parts := strings.Split(string(raw), "\n")
	if err != nil || len(parts) != n || !slices.Equal(parts[:len(scope)], scope) {
		return nil, errorf(codeInvalidPaginationToken, "The pagination token %s is not valid: pass the NextToken of the previous response, for the same request.", token)
	}
	return parts, nil
}
