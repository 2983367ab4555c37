package route53

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// change is one Change of a ChangeResourceRecordSets batch. Set.Name is as the caller wrote it.
type change struct {
	Action string // CREATE | DELETE | UPSERT
	Set    recordSet
}

// recordTypes returns the types a record set may have (botocore's RRType).
func recordTypes() []string {
	return []string{"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"}
}

// validate checks what AWS checks of a change before it looks at the zone, and answers in its
// words: InvalidInput.
func (c change) validate() error {
	switch c.Action {
	case "CREATE", "DELETE", "UPSERT":
	default:
		return errorf(codeInvalidInput, "Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.", c.Action)
	}
	if types := recordTypes(); !slices.Contains(types, c.Set.Type) {
		return errorf(codeInvalidInput, "Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[%s]'. It must be a value from the enumeration.", c.Set.Type, strings.Join(types, ", "))
	}
	for _, v := range c.Set.Values {
		if n := utf8.RuneCountInString(v); n > maxValueCharacters {
			return errorf(codeInvalidInput, "Invalid XML ; cvc-maxLength-valid: Value '%s' with length = '%d' is not facet-valid with respect to maxLength '%d' for type 'RData'.", v, n, maxValueCharacters)
		}
	}
	if c.Set.TTL != nil && *c.Set.TTL < 0 {
		return errorf(codeInvalidInput, "Invalid XML ; cvc-minInclusive-valid: Value '%d' is not facet-valid with respect to minInclusive '0' for type 'TTL'.", *c.Set.TTL)
	}
	plain := c.Set.TTL != nil && len(c.Set.Values) > 0
	alias := c.Set.Alias != nil
	found := ""
	switch {
	case plain && alias, alias && (c.Set.TTL != nil || len(c.Set.Values) > 0):
		found = "more than one"
	case !plain && !alias:
		found = "none"
	}
	if found != "" {
		setID := "null"
		if c.Set.SetIdentifier != "" {
			setID = c.Set.SetIdentifier
		}
		return errorf(codeInvalidInput, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found %s in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", found, c.Action, c.Set.Name, c.Set.Type, setID)
	}
	return nil
}

// The limits of one ChangeResourceRecordSets request. The Route 53 Developer Guide's quotas on
// API requests: at most 1,000 ResourceRecord elements and 32,000 characters in all the Value
// elements, those of an UPSERT counting twice, answered with InvalidChangeBatch in the words AWS
// uses ("Number of records limit of 1000 exceeded.", "RDATA character limit of 32000
// exceeded."). The model's: at most 4,000 characters a value (RData), which Route 53's schema
// refuses as InvalidInput before anything else.
const (
	maxBatchRecords    = 1000
	maxBatchCharacters = 32000
	maxValueCharacters = 4000
)

// checkBatchLimits returns InvalidChangeBatch for a batch over the request limits.
func checkBatchLimits(changes []change) error {
	records, characters := 0, 0
	for _, c := range changes {
		weight := 1
		if c.Action == "UPSERT" {
			weight = 2
		}
		for _, v := range c.Set.Values {
			records += weight
			characters += weight * utf8.RuneCountInString(v)
		}
	}
	var problems []string
	if records > maxBatchRecords {
		problems = append(problems, fmt.Sprintf("Number of records limit of %d exceeded.", maxBatchRecords))
	}
	if characters > maxBatchCharacters {
		problems = append(problems, fmt.Sprintf("RDATA character limit of %d exceeded.", maxBatchCharacters))
	}
	if len(problems) > 0 {
		return invalidChangeBatch(problems)
	}
	return nil
}

// changeRecordSets applies a batch of changes to a zone, all or nothing. It returns
// NoSuchHostedZone when the zone does not exist, InvalidInput for an empty batch or a change
// AWS's schema rejects (see change.validate), InvalidChangeBatch for a batch over the request
// limits (see checkBatchLimits), and InvalidChangeBatch, listing every problem,
// when a change does not fit the zone: a name outside it, a malformed value, a CNAME at the apex
// or beside other records, a CREATE of a record set that exists, a DELETE of one that does not
// or whose values differ, the deletion of the apex SOA or NS, or one record set changed twice in
// the batch (other than DELETE then CREATE or UPSERT).
func (b *backend) changeRecordSets(ctx context.Context, zoneID, comment string, changes []change) (changeInfo, error) {
	if len(changes) == 0 {
		return changeInfo{}, errorf(codeInvalidInput, `Invalid XML ; cvc-complex-type.2.4.b: The content of element 'Changes' is not complete. One of '{"https://route53.amazonaws.com/doc/2013-04-01/":Change}' is expected.`)
	}
	for _, c := range changes {
		if err := c.validate(); err != nil {
			return changeInfo{}, err
		}
	}
	if err := checkBatchLimits(changes); err != nil {
		return changeInfo{}, err
	}
	var info changeInfo
	err := b.doc.Update(ctx, func(st *state) error {
		z, ok := st.Zones[zoneID]
		if !ok {
			return noSuchHostedZone(zoneID)
		}
		records, problems := applyChanges(z, changes)
		if len(problems) > 0 {
			return invalidChangeBatch(problems)
		}
		z.Records = records
		info = b.recordChange(st, comment)
		return nil
	})
	return info, err
}

// applyChanges returns the zone's record sets after the changes, or the problems that stop them.
// It does not modify z.
func applyChanges(z *hostedZone, changes []change) ([]recordSet, []string) {
	if problems := repeatedChanges(changes); len(problems) > 0 {
		return nil, problems
	}
	records := slices.Clone(z.Records)
	var problems []string
	for _, c := range changes {
		var p []string
		records, p = applyChange(z, records, c)
		problems = append(problems, p...)
	}
	return records, problems
}

// repeatedChanges finds record sets a batch changes more than once. Route 53 only accepts a
// DELETE followed by a CREATE or an UPSERT of the same record set (the way to replace one).
func repeatedChanges(changes []change) []string {
	type key struct{ name, typ, id string }
	var order []key
	actions := map[key][]string{}
	for _, c := range changes {
		name, err := canonicalName(c.Set.Name)
		if err != nil {
			continue // reported with the change itself
		}
		k := key{name, c.Set.Type, c.Set.SetIdentifier}
		if _, seen := actions[k]; !seen {
			order = append(order, k)
		}
		actions[k] = append(actions[k], c.Action)
	}
	var problems []string
	for _, k := range order {
		a := actions[k]
		if len(a) == 1 || (len(a) == 2 && a[0] == "DELETE" && a[1] != "DELETE") {
			continue
		}
		problems = append(problems, fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", k.typ, k.name))
	}
	return problems
}

// applyChange applies one change to records (kept sorted) and returns them with the change's
// problems; records are unchanged when there are problems.
func applyChange(z *hostedZone, records []recordSet, c change) ([]recordSet, []string) {
	name, err := canonicalName(c.Set.Name)
	if err != nil {
		return records, []string{err.Error()}
	}
	if !inZone(name, z.Name) {
		return records, []string{fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name)}
	}
	set := c.Set
	set.Name = name
	set.Values = slices.Clone(set.Values)
	var problems []string
	if set.Alias != nil {
		alias := *set.Alias
		target, err := canonicalName(alias.DNSName)
		if err != nil {
			return records, []string{err.Error()}
		}
		alias.DNSName = target
		set.Alias = &alias
	}
	if set.Alias == nil {
		for _, v := range set.Values {
			if p := checkValue(set.Type, v); p != "" {
				problems = append(problems, p)
			}
		}
	}
	if set.Type == "CNAME" && name == z.Name && c.Action != "DELETE" {
		problems = append(problems, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, z.Name))
	}
	if len(problems) > 0 {
		return records, problems
	}
	i, found := findRecord(records, position(set))
	switch c.Action {
	case "CREATE":
		if found {
			return records, []string{fmt.Sprintf("Tried to create resource record set %s but it already exists", describe(set))}
		}
		if p := cnameConflict(z, records, set); p != "" {
			return records, []string{p}
		}
		return slices.Insert(records, i, set), nil
	case "UPSERT":
		if p := cnameConflict(z, records, set); p != "" {
			return records, []string{p}
		}
		if found {
			records[i] = set
			return records, nil
		}
		return slices.Insert(records, i, set), nil
	default: // DELETE
		if !found {
			return records, []string{fmt.Sprintf("Tried to delete resource record set %s but it was not found", describe(set))}
		}
		if !sameRecordSet(records[i], set) {
			return records, []string{fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", describe(set))}
		}
		if name == z.Name && set.Type == "SOA" {
			return records, []string{"A HostedZone must contain exactly one SOA record."}
		}
		if name == z.Name && set.Type == "NS" {
			return records, []string{"A HostedZone must contain at least one NS record for the zone itself."}
		}
		return slices.Delete(records, i, i+1), nil
	}
}

// describe names a record set the way Route 53's messages do.
func describe(r recordSet) string {
	if r.SetIdentifier != "" {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", r.Name, r.Type, r.SetIdentifier)
	}
	return fmt.Sprintf("[name='%s', type='%s']", r.Name, r.Type)
}

// findRecord returns where the record set at p is in the sorted records, or where it would go.
func findRecord(records []recordSet, p recordPosition) (int, bool) {
	i := sort.Search(len(records), func(i int) bool { return !lessPosition(position(records[i]), p) })
	return i, i < len(records) && position(records[i]) == p
}

// cnameConflict reports a CNAME that would share its name with record sets of other types.
func cnameConflict(z *hostedZone, records []recordSet, set recordSet) string {
	for _, r := range records {
		if r.Name != set.Name || r.Type == set.Type {
			continue
		}
		if set.Type == "CNAME" {
			return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", set.Name, z.Name)
		}
		if r.Type == "CNAME" {
			return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", set.Type, set.Name, z.Name)
		}
	}
	return ""
}

// checkValue checks one resource record value of type typ as Route 53 does, returning its
// message for a bad one. The A, AAAA, TXT, CNAME and MX problems are named as Route 53 names
// them (ARRDATAIllegalIPv4Address, InvalidCharacterString (Value should be enclosed in quotation
// marks), CharacterStringTooLong (Value is too long), DomainLabelEmpty, MXRRDATAPriorityRequired);
// the SRV messages, for which no AWS wording was found, are the emulator's own in the same form.
func checkValue(typ, value string) string {
	fatal := func(problem string) string {
		return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", problem, value)
	}
	switch typ {
	case "A":
		if strings.ContainsAny(value, " \t") {
			return fatal("ARRDATANotSingleField (Value contains spaces)")
		}
		if ip, err := netip.ParseAddr(value); err != nil || !ip.Is4() {
			return fatal("ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)")
		}
	case "AAAA":
		if ip, err := netip.ParseAddr(value); err != nil || !ip.Is6() || ip.Zone() != "" {
			return fatal("AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)")
		}
	case "TXT", "SPF":
		return checkCharacterStrings(value, fatal)
	case "CNAME", "NS", "PTR":
		if _, err := canonicalName(value); err != nil {
			return "Invalid Resource Record: " + err.Error()
		}
	case "MX":
		fields := strings.Fields(value)
		if len(fields) != 2 || !uint16Field(fields[0]) {
			return fatal("MXRRDATAPriorityRequired (Value must be a priority from 0 to 65535 and a mail server host name)")
		}
		if _, err := canonicalName(fields[1]); err != nil {
			return "Invalid Resource Record: " + err.Error()
		}
	case "SRV":
		fields := strings.Fields(value)
		if len(fields) != 4 || !uint16Field(fields[0]) || !uint16Field(fields[1]) || !uint16Field(fields[2]) {
			return fatal("SRVRRDATAIllegalFormat (Value must be a priority, a weight and a port, each from 0 to 65535, and a server host name)")
		}
		if _, err := canonicalName(fields[3]); err != nil {
			return "Invalid Resource Record: " + err.Error()
		}
	}
	return ""
}

// uint16Field reports whether s is a decimal number from 0 to 65535.
func uint16Field(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n <= 65535 && !strings.HasPrefix(s, "+")
}

// maxCharacterString is the longest string of a TXT value: DNS's 255 octets.
const maxCharacterString = 255

// checkCharacterStrings checks a TXT (or SPF) value: one or more strings, each in double quotes
// and separated by spaces, in which \" and \\ stand for " and \ and \DDD for the byte of octal
// value DDD, each string of at most 255 bytes. fatal words the problem as Route 53 does.
func checkCharacterStrings(value string, fatal func(string) string) string {
	unquoted := fatal("InvalidCharacterString (Value should be enclosed in quotation marks)")
	strs := 0
	for i := 0; ; {
		for i < len(value) && (value[i] == ' ' || value[i] == '\t') {
			i++
		}
		if i == len(value) {
			break
		}
		if value[i] != '"' {
			return unquoted
		}
		n, closed := 0, false
		for i++; i < len(value) && !closed; n++ {
			switch {
			case value[i] == '"':
				closed = true
				n--
				i++
			case value[i] == '\\' && i+3 < len(value) && isOctal(value[i+1]) && isOctal(value[i+2]) && isOctal(value[i+3]):
				i += 4
			case value[i] == '\\' && i+1 < len(value):
				i += 2
			default:
				i++
			}
		}
		if !closed || (i < len(value) && value[i] != ' ' && value[i] != '\t') {
			return unquoted
		}
		if n > maxCharacterString {
			return fatal("CharacterStringTooLong (Value is too long)")
		}
		strs++
	}
	if strs == 0 {
		return unquoted
	}
	return ""
}

// sameRecordSet reports whether a DELETE's record set matches the stored one exactly: TTL,
// values (in any order), alias target and routing fields.
func sameRecordSet(stored, given recordSet) bool {
	if !equalPtr(stored.TTL, given.TTL) || !equalPtr(stored.Weight, given.Weight) ||
		!equalPtr(stored.MultiValueAnswer, given.MultiValueAnswer) ||
		stored.Region != given.Region || stored.Failover != given.Failover ||
		stored.HealthCheckID != given.HealthCheckID {
		return false
	}
	if (stored.Alias == nil) != (given.Alias == nil) {
		return false
	}
	if stored.Alias != nil {
		a, b := *stored.Alias, *given.Alias
		if a.HostedZoneID != b.HostedZoneID || a.EvaluateTargetHealth != b.EvaluateTargetHealth ||
			a.DNSName != b.DNSName {
			return false
		}
	}
	x, y := slices.Clone(stored.Values), slices.Clone(given.Values)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
