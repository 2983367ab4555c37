package ec2

import (
	"regexp"
	"strings"
)

// instanceFamilies are the instance families of botocore's InstanceType enum (2016-11-15 model).
// A type is valid when its family is one of them and its size has the form AWS uses; the
// emulator does not check that a family comes in that size.
const instanceFamilies = `
a1 c1 c3 c4 c5 c5a c5ad c5d c5n c6a c6g c6gd c6gn c6i c6id c6in c7a c7g c7gd c7gn c7i c7i-flex
c8a c8g c8gb c8gd c8gn c8i c8i-flex c8id cc1 cc2 cg1 cr1 d2 d3 d3en dl1 dl2q f1 f2 g2 g3 g3s
g4ad g4dn g5 g5g g6 g6e g6f g7e gr6 gr6f h1 hi1 hpc6a hpc6id hpc7a hpc7g hpc8a hs1 i2 i3 i3en
i4g i4i i7i i7ie i8g i8ge im4gn inf1 inf2 is4gen m1 m2 m3 m4 m5 m5a m5ad m5d m5dn m5n m5zn m6a
m6g m6gd m6i m6id m6idn m6in m7a m7g m7gd m7i m7i-flex m8a m8azn m8g m8gb m8gd m8gn m8i m8i-flex
m8id mac-m4 mac-m4max mac-m4pro mac1 mac2 mac2-m1ultra mac2-m2 mac2-m2pro p2 p3 p3dn p4d p4de p5
p5e p5en p6-b200 p6-b300 p6e-gb200 r3 r4 r5 r5a r5ad r5b r5d r5dn r5n r6a r6g r6gd r6i r6id
r6idn r6in r7a r7g r7gd r7i r7iz r8a r8g r8gb r8gd r8gn r8i r8i-flex r8id t1 t2 t3 t3a t4g trn1
trn1n trn2 u-12tb1 u-18tb1 u-24tb1 u-3tb1 u-6tb1 u-9tb1 u7i-12tb u7i-6tb u7i-8tb u7ib-12tb
u7in-16tb u7in-24tb u7in-32tb u7inh-32tb vt1 x1 x1e x2gd x2idn x2iedn x2iezn x8aedz x8g x8i z1d
`

var instanceSize = regexp.MustCompile(`^(nano|micro|small|medium|large|xlarge|[0-9]+xlarge|metal(-[0-9]+xl)?)$`)

// validInstanceType reports whether t is a real EC2 instance type name such as t3.micro.
func validInstanceType(t string) bool {
	family, size, ok := strings.Cut(t, ".")
	if !ok || !instanceSize.MatchString(size) || family == "" {
		return false
	}
	for _, f := range strings.Fields(instanceFamilies) {
		if f == family {
			return true
		}
	}
	return false
}

var gravitonFamily = regexp.MustCompile(`^[a-z]+[0-9]+g[a-z]*$`)

// instanceArchitecture returns the architecture of a valid instance type: arm64 for the
// Graviton families (a1, t4g, m7g, c7gn, ...), the Mac architectures for mac families, x86_64
// for the rest.
func instanceArchitecture(t string) string {
	family, _, _ := strings.Cut(t, ".")
	switch {
	case family == "mac1":
		return "x86_64_mac"
	case strings.HasPrefix(family, "mac"):
		return "arm64_mac"
	case family == "a1", gravitonFamily.MatchString(family):
		return "arm64"
	}
	return "x86_64"
}
