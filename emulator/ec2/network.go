package ec2

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// usableRange returns the first and the last address an instance may get in cidr, and how many
// there are: AWS reserves the network address, the three after it (router, DNS, future use) and
// the last one.
func usableRange(cidr string) (first, last netip.Addr, n int) {
	p := netip.MustParsePrefix(cidr).Masked()
	size := 1 << (32 - p.Bits())
	first = p.Addr().Next().Next().Next().Next()
	last = p.Addr()
	for range size - 2 {
		last = last.Next()
	}
	return first, last, size - 5
}

// addressesInUse returns the private IPs of sub held at now: every instance's until it is
// terminated. VPCs may overlap, so an address is only in use in its own subnet.
func (l lifecycle) addressesInUse(st *state, sub *subnet, now time.Time) map[string]bool {
	used := map[string]bool{}
	for _, inst := range st.Instances {
		if inst.SubnetID != sub.ID {
			continue
		}
		if name, _ := l.current(inst, now); name != stateTerminated {
			used[inst.PrivateIP] = true
		}
	}
	return used
}

// availableAddresses returns how many addresses of sub no instance holds at now.
func (l lifecycle) availableAddresses(st *state, sub *subnet, now time.Time) int {
	_, _, n := usableRange(sub.CIDR)
	for _, inst := range st.Instances {
		if inst.SubnetID != sub.ID {
			continue
		}
		if name, _ := l.current(inst, now); name != stateTerminated {
			n--
		}
	}
	return n
}

// freeAddresses returns the usable addresses of sub that are not in used, in ascending order.
func freeAddresses(sub *subnet, used map[string]bool) []netip.Addr {
	first, last, _ := usableRange(sub.CIDR)
	var free []netip.Addr
	for a := first; a.Compare(last) <= 0; a = a.Next() {
		if !used[a.String()] {
			free = append(free, a)
		}
	}
	return free
}

// inSubnet reports whether addr is one of the addresses of sub an instance may get.
func inSubnet(sub *subnet, addr netip.Addr) bool {
	first, last, _ := usableRange(sub.CIDR)
	return addr.Is4() && addr.Compare(first) >= 0 && addr.Compare(last) <= 0
}

// privateDNSName is the name EC2 gives ip in region: ip-172-31-5-10.ec2.internal in us-east-1,
// ip-172-31-5-10.eu-west-1.compute.internal elsewhere.
func privateDNSName(ip, region string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return fmt.Sprintf("%s.%s.compute.internal", host, region)
}

// publicIP returns a new public address for an instance launched in sub when associate says so,
// or, when it is nil, when sub maps one on launch (a default subnet, as on AWS); else "".
// Addresses are drawn in order from 3.80.0.0/12, one of Amazon's ranges, and never given twice.
func publicIP(st *state, sub *subnet, associate *bool) string {
	if associate != nil && !*associate || associate == nil && !sub.DefaultForAZ {
		return ""
	}
	base := netip.MustParseAddr("3.80.0.0").As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(st.next("public-ip"))&0xFFFFF
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// publicDNSName is the name EC2 gives a public ip in region: ec2-3-80-0-1.compute-1.amazonaws.com
// in us-east-1, ec2-3-80-0-1.eu-west-1.compute.amazonaws.com elsewhere; "" for no ip.
func publicDNSName(ip, region string) string {
	if ip == "" {
		return ""
	}
	host := "ec2-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return fmt.Sprintf("%s.%s.compute.amazonaws.com", host, region)
}
