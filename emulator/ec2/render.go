package ec2

import (
	"encoding/base64"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// This file holds the XML shapes of EC2's answers, named as botocore's ec2 model names each
// member (its locationName), and the functions that fill them from snapshots.

// namespace is the XML namespace of every EC2 answer but errors.
const namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// result is the body of a successful answer; its element is ACTIONResponse.
type result interface{ setRequestID(id string) }

// meta is what every answer carries.
type meta struct {
	RequestID string `xml:"requestId"`
}

func (m *meta) setRequestID(id string) { m.RequestID = id }

// list is an EC2 list: a wrapper element with one <item> per member.
type list[T any] struct {
	Items []T `xml:"item"`
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tagSet returns the tagSet of a resource; nil, so that the element is left out as AWS does,
// when it has no tags.
func tagSet(tags []Tag) *list[xmlTag] {
	if len(tags) == 0 {
		return nil
	}
	out := &list[xmlTag]{}
	for _, t := range tags {
		out.Items = append(out.Items, xmlTag(t))
	}
	return out
}

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func instanceState(name string) xmlState { return xmlState{Code: stateCode(name), Name: name} }

type xmlGroup struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlReservation struct {
	ReservationID string            `xml:"reservationId"`
	OwnerID       string            `xml:"ownerId"`
	Groups        list[xmlGroup]    `xml:"groupSet"`
	Instances     list[xmlInstance] `xml:"instancesSet"`
}

type xmlPlacement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type xmlStateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xmlEBS struct {
	VolumeID            string `xml:"volumeId"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xmlBlockDevice struct {
	DeviceName string `xml:"deviceName"`
	EBS        xmlEBS `xml:"ebs"`
}

type xmlProfile struct {
	ARN string `xml:"arn"`
	ID  string `xml:"id"`
}

type xmlMetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type xmlAttachment struct {
	AttachmentID        string `xml:"attachmentId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
}

type xmlPrivateIP struct {
	PrivateIPAddress string          `xml:"privateIpAddress"`
	PrivateDNSName   string          `xml:"privateDnsName"`
	Primary          bool            `xml:"primary"`
	Association      *xmlAssociation `xml:"association,omitempty"`
}

// xmlAssociation is a public address associated with a private one.
type xmlAssociation struct {
	PublicIP      string `xml:"publicIp"`
	PublicDNSName string `xml:"publicDnsName"`
	IPOwnerID     string `xml:"ipOwnerId"`
}

type xmlNetworkInterface struct {
	NetworkInterfaceID string             `xml:"networkInterfaceId"`
	SubnetID           string             `xml:"subnetId"`
	VpcID              string             `xml:"vpcId"`
	Description        string             `xml:"description"`
	OwnerID            string             `xml:"ownerId"`
	Status             string             `xml:"status"`
	MACAddress         string             `xml:"macAddress"`
	PrivateIPAddress   string             `xml:"privateIpAddress"`
	PrivateDNSName     string             `xml:"privateDnsName"`
	SourceDestCheck    bool               `xml:"sourceDestCheck"`
	Groups             list[xmlGroup]     `xml:"groupSet"`
	Attachment         xmlAttachment      `xml:"attachment"`
	Association        *xmlAssociation    `xml:"association,omitempty"`
	PrivateIPAddresses list[xmlPrivateIP] `xml:"privateIpAddressesSet"`
	IPv6Addresses      list[struct{}]     `xml:"ipv6AddressesSet"`
	InterfaceType      string             `xml:"interfaceType"`
}

type xmlMonitoring struct {
	State string `xml:"state"`
}

type xmlEnabled struct {
	Enabled bool `xml:"enabled"`
}

type xmlConfigured struct {
	Configured bool `xml:"configured"`
}

type xmlDNSNameOptions struct {
	HostnameType                    string `xml:"hostnameType"`
	EnableResourceNameDNSARecord    bool   `xml:"enableResourceNameDnsARecord"`
	EnableResourceNameDNSAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
}

type xmlInstance struct {
	InstanceID               string                    `xml:"instanceId"`
	ImageID                  string                    `xml:"imageId"`
	State                    xmlState                  `xml:"instanceState"`
	PrivateDNSName           string                    `xml:"privateDnsName"`
	DNSName                  string                    `xml:"dnsName"`
	Reason                   string                    `xml:"reason"`
	KeyName                  string                    `xml:"keyName,omitempty"`
	AmiLaunchIndex           int                       `xml:"amiLaunchIndex"`
	ProductCodes             list[struct{}]            `xml:"productCodes"`
	InstanceType             string                    `xml:"instanceType"`
	LaunchTime               string                    `xml:"launchTime"`
	Placement                xmlPlacement              `xml:"placement"`
	Monitoring               xmlMonitoring             `xml:"monitoring"`
	SubnetID                 string                    `xml:"subnetId,omitempty"`
	VpcID                    string                    `xml:"vpcId,omitempty"`
	PrivateIPAddress         string                    `xml:"privateIpAddress,omitempty"`
	IPAddress                string                    `xml:"ipAddress,omitempty"`
	SourceDestCheck          *bool                     `xml:"sourceDestCheck,omitempty"`
	Groups                   list[xmlGroup]            `xml:"groupSet"`
	StateReason              *xmlStateReason           `xml:"stateReason,omitempty"`
	Architecture             string                    `xml:"architecture"`
	RootDeviceType           string                    `xml:"rootDeviceType"`
	RootDeviceName           string                    `xml:"rootDeviceName"`
	BlockDeviceMappings      list[xmlBlockDevice]      `xml:"blockDeviceMapping"`
	VirtualizationType       string                    `xml:"virtualizationType"`
	ClientToken              string                    `xml:"clientToken"`
	Tags                     *list[xmlTag]             `xml:"tagSet,omitempty"`
	Hypervisor               string                    `xml:"hypervisor"`
	NetworkInterfaces        list[xmlNetworkInterface] `xml:"networkInterfaceSet"`
	IAMInstanceProfile       *xmlProfile               `xml:"iamInstanceProfile,omitempty"`
	EBSOptimized             bool                      `xml:"ebsOptimized"`
	ENASupport               bool                      `xml:"enaSupport"`
	HibernationOptions       xmlConfigured             `xml:"hibernationOptions"`
	MetadataOptions          xmlMetadataOptions        `xml:"metadataOptions"`
	EnclaveOptions           xmlEnabled                `xml:"enclaveOptions"`
	BootMode                 string                    `xml:"bootMode,omitempty"`
	PlatformDetails          string                    `xml:"platformDetails"`
	UsageOperation           string                    `xml:"usageOperation"`
	UsageOperationUpdateTime string                    `xml:"usageOperationUpdateTime"`
	PrivateDNSNameOptions    *xmlDNSNameOptions        `xml:"privateDnsNameOptions,omitempty"`
	MaintenanceOptions       struct {
		AutoRecovery string `xml:"autoRecovery"`
	} `xml:"maintenanceOptions"`
	CurrentInstanceBootMode string `xml:"currentInstanceBootMode,omitempty"`
}

// renderInstance is the Instance shape of s. A terminated instance has no address, network
// interface, volume or security group any more, as on AWS.
func renderInstance(s instanceSnapshot) xmlInstance {
	live := s.State != stateTerminated
	out := xmlInstance{
		InstanceID:               s.ID,
		ImageID:                  s.ImageID,
		State:                    instanceState(s.State),
		Reason:                   s.Reason,
		KeyName:                  s.KeyName,
		AmiLaunchIndex:           s.LaunchIndex,
		InstanceType:             s.InstanceType,
		LaunchTime:               wire.Timestamp(s.LaunchTime),
		Placement:                xmlPlacement{AvailabilityZone: s.AvailabilityZone, Tenancy: "default"},
		Architecture:             s.Architecture,
		RootDeviceType:           "ebs",
		RootDeviceName:           s.RootDevice,
		VirtualizationType:       "hvm",
		ClientToken:              s.ClientToken,
		Tags:                     tagSet(s.Tags),
		Hypervisor:               "xen",
		EBSOptimized:             s.EBSOptimized,
		ENASupport:               true,
		BootMode:                 s.BootMode,
		PlatformDetails:          "Linux/UNIX",
		UsageOperation:           "RunInstances",
		UsageOperationUpdateTime: wire.Timestamp(s.LaunchTime),
		MetadataOptions: xmlMetadataOptions{
			State:                   "applied",
			HTTPTokens:              s.Metadata.HTTPTokens,
			HTTPPutResponseHopLimit: s.Metadata.HopLimit,
			HTTPEndpoint:            s.Metadata.HTTPEndpoint,
			HTTPProtocolIPv6:        s.Metadata.ProtocolIPv6,
			InstanceMetadataTags:    s.Metadata.Tags,
		},
	}
	out.Monitoring.State = "disabled"
	if s.Monitoring {
		out.Monitoring.State = "enabled"
	}
	out.MaintenanceOptions.AutoRecovery = "default"
	if s.State == statePending {
		out.MetadataOptions.State = "pending"
		out.StateReason = &xmlStateReason{Code: "pending", Message: "pending"}
	}
	if s.State != statePending && s.State != stateRunning {
		c, m := userInitiated()
		out.StateReason = &xmlStateReason{Code: c, Message: m}
	}
	if s.BootMode == "uefi-preferred" || s.BootMode == "uefi" {
		out.CurrentInstanceBootMode = "uefi"
	} else {
		out.CurrentInstanceBootMode = "legacy-bios"
	}
	if s.Profile != nil {
		out.IAMInstanceProfile = &xmlProfile{ARN: s.Profile.ARN, ID: s.Profile.ID}
	}
	if !live {
		return out
	}
	yes := true
	out.PrivateDNSName = s.PrivateDNS
	out.DNSName = s.PublicDNS
	out.IPAddress = s.PublicIP
	out.SubnetID = s.SubnetID
	out.VpcID = s.VpcID
	out.PrivateIPAddress = s.PrivateIP
	out.SourceDestCheck = &yes
	out.PrivateDNSNameOptions = &xmlDNSNameOptions{HostnameType: "ip-name"}
	var groups list[xmlGroup]
	for _, g := range s.Groups {
		groups.Items = append(groups.Items, xmlGroup{GroupID: g.ID, GroupName: g.Name})
	}
	out.Groups = groups
	out.BlockDeviceMappings.Items = []xmlBlockDevice{{
		DeviceName: s.RootDevice,
		EBS:        xmlEBS{VolumeID: s.Volume, Status: "attached", AttachTime: wire.Timestamp(s.LaunchTime), DeleteOnTermination: !s.RootKept},
	}}
	for _, v := range s.Volumes {
		out.BlockDeviceMappings.Items = append(out.BlockDeviceMappings.Items, xmlBlockDevice{
			DeviceName: v.Device,
			EBS:        xmlEBS{VolumeID: v.ID, Status: "attached", AttachTime: wire.Timestamp(s.LaunchTime), DeleteOnTermination: v.DeleteOnTermination},
		})
	}
	out.NetworkInterfaces.Items = []xmlNetworkInterface{{
		NetworkInterfaceID: s.NetworkInterface,
		SubnetID:           s.SubnetID,
		VpcID:              s.VpcID,
		OwnerID:            s.Owner,
		Status:             "in-use",
		MACAddress:         s.MAC,
		PrivateIPAddress:   s.PrivateIP,
		PrivateDNSName:     s.PrivateDNS,
		SourceDestCheck:    true,
		Groups:             groups,
		Description:        s.InterfaceDesc,
		Attachment: xmlAttachment{
			AttachmentID:        s.Attachment,
			Status:              "attached",
			AttachTime:          wire.Timestamp(s.LaunchTime),
			DeleteOnTermination: !s.InterfaceKept,
		},
		PrivateIPAddresses: list[xmlPrivateIP]{Items: []xmlPrivateIP{{PrivateIPAddress: s.PrivateIP, PrivateDNSName: s.PrivateDNS, Primary: true}}},
		InterfaceType:      "interface",
	}}
	if s.PublicIP != "" {
		assoc := &xmlAssociation{PublicIP: s.PublicIP, PublicDNSName: s.PublicDNS, IPOwnerID: "amazon"}
		out.NetworkInterfaces.Items[0].Association = assoc
		out.NetworkInterfaces.Items[0].PrivateIPAddresses.Items[0].Association = assoc
	}
	return out
}

func renderReservation(r reservationSnapshot, owner string) xmlReservation {
	out := xmlReservation{ReservationID: r.ID, OwnerID: owner}
	for _, s := range r.Instances {
		out.Instances.Items = append(out.Instances.Items, renderInstance(s))
	}
	return out
}

type runInstancesResult struct {
	meta
	xmlReservation
}

type describeInstancesResult struct {
	meta
	Reservations list[xmlReservation] `xml:"reservationSet"`
	NextToken    string               `xml:"nextToken,omitempty"`
}

type xmlStateChange struct {
	InstanceID string   `xml:"instanceId"`
	Current    xmlState `xml:"currentState"`
	Previous   xmlState `xml:"previousState"`
}

type stateChangeResult struct {
	meta
	Instances list[xmlStateChange] `xml:"instancesSet"`
}

func renderStateChanges(changes []stateChange) *stateChangeResult {
	out := &stateChangeResult{}
	for _, c := range changes {
		out.Instances.Items = append(out.Instances.Items, xmlStateChange{
			InstanceID: c.ID,
			Current:    instanceState(c.Current),
			Previous:   instanceState(c.Previous),
		})
	}
	return out
}

type returnResult struct {
	meta
	Return bool `xml:"return"`
}

// attrValue is an AttributeValue; a nil Value is an empty element.
type attrValue struct {
	Value *string `xml:"value,omitempty"`
}

type attrBool struct {
	Value bool `xml:"value"`
}

type describeInstanceAttributeResult struct {
	meta
	InstanceID                        string                `xml:"instanceId"`
	BlockDeviceMappings               *list[xmlBlockDevice] `xml:"blockDeviceMapping,omitempty"`
	DisableAPITermination             *attrBool             `xml:"disableApiTermination,omitempty"`
	DisableAPIStop                    *attrBool             `xml:"disableApiStop,omitempty"`
	ENASupport                        *attrBool             `xml:"enaSupport,omitempty"`
	EnclaveOptions                    *xmlEnabled           `xml:"enclaveOptions,omitempty"`
	EBSOptimized                      *attrBool             `xml:"ebsOptimized,omitempty"`
	InstanceInitiatedShutdownBehavior *attrValue            `xml:"instanceInitiatedShutdownBehavior,omitempty"`
	InstanceType                      *attrValue            `xml:"instanceType,omitempty"`
	Kernel                            *attrValue            `xml:"kernel,omitempty"`
	ProductCodes                      *list[struct{}]       `xml:"productCodes,omitempty"`
	Ramdisk                           *attrValue            `xml:"ramdisk,omitempty"`
	RootDeviceName                    *attrValue            `xml:"rootDeviceName,omitempty"`
	SourceDestCheck                   *attrBool             `xml:"sourceDestCheck,omitempty"`
	SriovNetSupport                   *attrValue            `xml:"sriovNetSupport,omitempty"`
	UserData                          *attrValue            `xml:"userData,omitempty"`
	Groups                            *list[xmlGroup]       `xml:"groupSet,omitempty"`
}

// renderAttribute fills the one attribute of s a DescribeInstanceAttribute asked for. It returns
// InvalidParameterValue for an attribute EC2 does not have.
func renderAttribute(s instanceSnapshot, attribute string) (*describeInstanceAttributeResult, error) {
	out := &describeInstanceAttributeResult{InstanceID: s.ID}
	str := func(v string) *attrValue {
		if v == "" {
			return &attrValue{}
		}
		return &attrValue{Value: &v}
	}
	switch attribute {
	case "instanceType":
		out.InstanceType = str(s.InstanceType)
	case "userData":
		if len(s.UserData) > 0 {
			out.UserData = str(base64.StdEncoding.EncodeToString(s.UserData))
		} else {
			out.UserData = str("")
		}
	case "kernel":
		out.Kernel = str("")
	case "ramdisk":
		out.Ramdisk = str("")
	case "disableApiTermination":
		out.DisableAPITermination = &attrBool{s.NoTermination}
	case "disableApiStop":
		out.DisableAPIStop = &attrBool{s.NoStop}
	case "instanceInitiatedShutdownBehavior":
		out.InstanceInitiatedShutdownBehavior = str(s.ShutdownBehavior)
	case "rootDeviceName":
		out.RootDeviceName = str(s.RootDevice)
	case "blockDeviceMapping":
		out.BlockDeviceMappings = &list[xmlBlockDevice]{}
		if s.State != stateTerminated {
			out.BlockDeviceMappings.Items = renderInstance(s).BlockDeviceMappings.Items
		}
	case "productCodes":
		out.ProductCodes = &list[struct{}]{}
	case "sourceDestCheck":
		out.SourceDestCheck = &attrBool{true}
	case "groupSet":
		out.Groups = &list[xmlGroup]{}
		if s.State != stateTerminated {
			out.Groups.Items = renderInstance(s).Groups.Items
		}
	case "ebsOptimized":
		out.EBSOptimized = &attrBool{s.EBSOptimized}
	case "sriovNetSupport":
		out.SriovNetSupport = str("")
	case "enaSupport":
		out.ENASupport = &attrBool{true}
	case "enclaveOptions":
		out.EnclaveOptions = &xmlEnabled{}
	default:
		return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter attribute is invalid. Unknown attribute.", attribute)
	}
	return out, nil
}

type xmlCIDRAssociation struct {
	CIDRBlock     string `xml:"cidrBlock"`
	AssociationID string `xml:"associationId"`
	State         struct {
		State string `xml:"state"`
	} `xml:"cidrBlockState"`
}

type xmlBlockPublicAccess struct {
	InternetGatewayBlockMode string `xml:"internetGatewayBlockMode"`
}

type xmlVpc struct {
	VpcID                   string                   `xml:"vpcId"`
	OwnerID                 string                   `xml:"ownerId"`
	State                   string                   `xml:"state"`
	CIDRBlock               string                   `xml:"cidrBlock"`
	CIDRBlockAssociations   list[xmlCIDRAssociation] `xml:"cidrBlockAssociationSet"`
	DHCPOptionsID           string                   `xml:"dhcpOptionsId"`
	InstanceTenancy         string                   `xml:"instanceTenancy"`
	IsDefault               bool                     `xml:"isDefault"`
	BlockPublicAccessStates xmlBlockPublicAccess     `xml:"blockPublicAccessStates"`
	Tags                    *list[xmlTag]            `xml:"tagSet,omitempty"`
	// IPv6CIDRBlockAssociations is an empty list in CreateVpc's answer and absent elsewhere.
	IPv6CIDRBlockAssociations *list[struct{}] `xml:"ipv6CidrBlockAssociationSet,omitempty"`
}

func renderVpc(v vpcSnapshot, owner string) xmlVpc {
	assoc := xmlCIDRAssociation{CIDRBlock: v.CIDR, AssociationID: v.AssociationID}
	assoc.State.State = "associated"
	tenancy := v.Tenancy
	if tenancy == "" {
		tenancy = "default"
	}
	return xmlVpc{
		VpcID:                   v.ID,
		OwnerID:                 owner,
		State:                   "available",
		CIDRBlock:               v.CIDR,
		CIDRBlockAssociations:   list[xmlCIDRAssociation]{Items: []xmlCIDRAssociation{assoc}},
		DHCPOptionsID:           v.DHCPOptionsID,
		InstanceTenancy:         tenancy,
		IsDefault:               v.IsDefault,
		BlockPublicAccessStates: xmlBlockPublicAccess{InternetGatewayBlockMode: "off"},
		Tags:                    tagSet(v.Tags),
	}
}

type createVpcResult struct {
	meta
	Vpc xmlVpc `xml:"vpc"`
}

type describeVpcsResult struct {
	meta
	VPCs list[xmlVpc] `xml:"vpcSet"`
}

type xmlSubnet struct {
	SubnetID                    string               `xml:"subnetId"`
	SubnetARN                   string               `xml:"subnetArn"`
	State                       string               `xml:"state"`
	VpcID                       string               `xml:"vpcId"`
	OwnerID                     string               `xml:"ownerId"`
	CIDRBlock                   string               `xml:"cidrBlock"`
	IPv6CIDRBlockAssociations   list[struct{}]       `xml:"ipv6CidrBlockAssociationSet"`
	AvailableIPAddressCount     int                  `xml:"availableIpAddressCount"`
	AvailabilityZone            string               `xml:"availabilityZone"`
	AvailabilityZoneID          string               `xml:"availabilityZoneId"`
	DefaultForAZ                bool                 `xml:"defaultForAz"`
	MapPublicIPOnLaunch         bool                 `xml:"mapPublicIpOnLaunch"`
	MapCustomerOwnedIPOnLaunch  bool                 `xml:"mapCustomerOwnedIpOnLaunch"`
	AssignIPv6AddressOnCreation bool                 `xml:"assignIpv6AddressOnCreation"`
	IPv6Native                  bool                 `xml:"ipv6Native"`
	EnableDNS64                 bool                 `xml:"enableDns64"`
	PrivateDNSNameOptions       xmlDNSNameOptions    `xml:"privateDnsNameOptionsOnLaunch"`
	BlockPublicAccessStates     xmlBlockPublicAccess `xml:"blockPublicAccessStates"`
	Tags                        *list[xmlTag]        `xml:"tagSet,omitempty"`
}

func subnetARN(region, owner, id string) string {
	return "arn:aws:ec2:" + region + ":" + owner + ":subnet/" + id
}

func renderSubnet(s subnetSnapshot, region, owner string) xmlSubnet {
	return xmlSubnet{
		SubnetID:                s.ID,
		SubnetARN:               subnetARN(region, owner, s.ID),
		State:                   "available",
		VpcID:                   s.VpcID,
		OwnerID:                 owner,
		CIDRBlock:               s.CIDR,
		AvailableIPAddressCount: s.Available,
		AvailabilityZone:        s.AvailabilityZone,
		AvailabilityZoneID:      zoneID(region, s.AvailabilityZone),
		DefaultForAZ:            s.DefaultForAZ,
		MapPublicIPOnLaunch:     s.DefaultForAZ, // AWS's default subnets give instances a public IP

		PrivateDNSNameOptions:   xmlDNSNameOptions{HostnameType: "ip-name"},
		BlockPublicAccessStates: xmlBlockPublicAccess{InternetGatewayBlockMode: "off"},
		Tags:                    tagSet(s.Tags),
	}
}

type createSubnetResult struct {
	meta
	Subnet xmlSubnet `xml:"subnet"`
}

type describeSubnetsResult struct {
	meta
	Subnets list[xmlSubnet] `xml:"subnetSet"`
}

type xmlGroupPair struct {
	UserID  string `xml:"userId"`
	GroupID string `xml:"groupId"`
}

type xmlIPRange struct {
	CIDRIP string `xml:"cidrIp"`
}

type xmlPermission struct {
	IPProtocol    string             `xml:"ipProtocol"`
	Groups        list[xmlGroupPair] `xml:"groups"`
	IPRanges      list[xmlIPRange]   `xml:"ipRanges"`
	IPv6Ranges    list[struct{}]     `xml:"ipv6Ranges"`
	PrefixListIDs list[struct{}]     `xml:"prefixListIds"`
}

type xmlSecurityGroup struct {
	OwnerID     string              `xml:"ownerId"`
	GroupID     string              `xml:"groupId"`
	GroupName   string              `xml:"groupName"`
	Description string              `xml:"groupDescription"`
	VpcID       string              `xml:"vpcId"`
	ARN         string              `xml:"securityGroupArn"`
	Ingress     list[xmlPermission] `xml:"ipPermissions"`
	Egress      list[xmlPermission] `xml:"ipPermissionsEgress"`
	Tags        *list[xmlTag]       `xml:"tagSet,omitempty"`
}

// renderGroup is a security group with the rules of a default group: all traffic in from the
// group itself, all traffic out.
func renderGroup(g groupSnapshot, region, owner string) xmlSecurityGroup {
	return xmlSecurityGroup{
		OwnerID:     owner,
		GroupID:     g.ID,
		GroupName:   g.Name,
		Description: g.Description,
		VpcID:       g.VpcID,
		ARN:         "arn:aws:ec2:" + region + ":" + owner + ":security-group/" + g.ID,
		Ingress: list[xmlPermission]{Items: []xmlPermission{{
			IPProtocol: "-1",
			Groups:     list[xmlGroupPair]{Items: []xmlGroupPair{{UserID: owner, GroupID: g.ID}}},
		}}},
		Egress: list[xmlPermission]{Items: []xmlPermission{{
			IPProtocol: "-1",
			IPRanges:   list[xmlIPRange]{Items: []xmlIPRange{{CIDRIP: "0.0.0.0/0"}}},
		}}},
		Tags: tagSet(g.Tags),
	}
}

type describeSecurityGroupsResult struct {
	meta
	Groups list[xmlSecurityGroup] `xml:"securityGroupInfo"`
}

type xmlImageEBS struct {
	SnapshotID          string `xml:"snapshotId,omitempty"`
	VolumeSize          int    `xml:"volumeSize,omitempty"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	VolumeType          string `xml:"volumeType"`
	Encrypted           bool   `xml:"encrypted"`
}

type xmlImageBlockDevice struct {
	DeviceName string       `xml:"deviceName"`
	EBS        *xmlImageEBS `xml:"ebs,omitempty"`
	NoDevice   *string      `xml:"noDevice,omitempty"`
}

type xmlImage struct {
	ImageID             string                    `xml:"imageId"`
	ImageLocation       string                    `xml:"imageLocation"`
	State               string                    `xml:"imageState"`
	OwnerID             string                    `xml:"imageOwnerId"`
	CreationDate        string                    `xml:"creationDate"`
	Public              bool                      `xml:"isPublic"`
	Architecture        string                    `xml:"architecture"`
	ImageType           string                    `xml:"imageType"`
	OwnerAlias          string                    `xml:"imageOwnerAlias,omitempty"`
	Name                string                    `xml:"name"`
	Description         string                    `xml:"description,omitempty"`
	RootDeviceType      string                    `xml:"rootDeviceType"`
	RootDeviceName      string                    `xml:"rootDeviceName"`
	BlockDeviceMappings list[xmlImageBlockDevice] `xml:"blockDeviceMapping"`
	VirtualizationType  string                    `xml:"virtualizationType"`
	Hypervisor          string                    `xml:"hypervisor"`
	ENASupport          bool                      `xml:"enaSupport"`
	SriovNetSupport     string                    `xml:"sriovNetSupport,omitempty"`
	BootMode            string                    `xml:"bootMode,omitempty"`
	IMDSSupport         string                    `xml:"imdsSupport,omitempty"`
	PlatformDetails     string                    `xml:"platformDetails"`
	UsageOperation      string                    `xml:"usageOperation"`
	SourceInstanceID    string                    `xml:"sourceInstanceId,omitempty"`
	SourceImageID       string                    `xml:"sourceImageId,omitempty"`
	SourceImageRegion   string                    `xml:"sourceImageRegion,omitempty"`
	Tags                *list[xmlTag]             `xml:"tagSet"`
}

func renderImage(im imageSnapshot) xmlImage {
	out := xmlImage{
		ImageID:            im.ID,
		ImageLocation:      im.Owner + "/" + im.Name,
		State:              im.State,
		OwnerID:            im.Owner,
		CreationDate:       wire.Timestamp(im.CreationDate),
		Public:             im.Public,
		Architecture:       im.Architecture,
		ImageType:          "machine",
		OwnerAlias:         im.OwnerAlias,
		Name:               im.Name,
		Description:        im.Description,
		RootDeviceType:     "ebs",
		RootDeviceName:     im.RootDeviceName,
		VirtualizationType: im.VirtualizationType,
		Hypervisor:         "xen",
		ENASupport:         im.ENASupport,
		SriovNetSupport:    im.SriovNetSupport,
		BootMode:           im.BootMode,
		PlatformDetails:    "Linux/UNIX",
		UsageOperation:     "RunInstances",
		SourceInstanceID:   im.SourceInstanceID,
		SourceImageID:      im.SourceImageID,
		SourceImageRegion:  im.SourceImageRegion,
		Tags:               tagSet(im.Tags),
	}
	for _, d := range im.Devices {
		x := xmlImageBlockDevice{DeviceName: d.DeviceName}
		if d.NoDevice {
			x.NoDevice = new(string)
		} else {
			x.EBS = &xmlImageEBS{
				SnapshotID:          d.SnapshotID,
				VolumeSize:          d.VolumeSize,
				DeleteOnTermination: d.DeleteOnTermination,
				VolumeType:          d.VolumeType,
				Encrypted:           d.Encrypted,
			}
		}
		out.BlockDeviceMappings.Items = append(out.BlockDeviceMappings.Items, x)
	}
	if im.OwnerAlias != "" {
		out.ImageLocation = im.OwnerAlias + "/" + im.Name
	}
	if im.IMDSv2 {
		out.IMDSSupport = "v2.0"
	}
	return out
}

// imageIDResult is the answer of CreateImage and RegisterImage.
type imageIDResult struct {
	meta
	ImageID string `xml:"imageId"`
}

type describeImagesResult struct {
	meta
	Images list[xmlImage] `xml:"imagesSet"`
}
