package route53

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func TestChangeBatchLimits(t *testing.T) {
	_, c := start(t, Options{})
	id := stripPrefix(aws.ToString(createTestZone(t, c, "limits.test.", "limits").HostedZone.Id))
	addresses := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("10.%d.%d.1", i/250, i%250)
		}
		return out
	}
	// 100 record sets of 10 addresses: 1,000 records, the most one request may hold.
	sets := func(action types.ChangeAction, n int) []types.Change {
		var out []types.Change
		for i := range n {
			out = append(out, rrChange(action, fmt.Sprintf("h%d.limits.test.", i), types.RRTypeA, 60, addresses(10)...))
		}
		return out
	}
	if _, err := changeBatch(t, c, id, sets(types.ChangeActionCreate, 100)...); err != nil {
		t.Fatalf("1,000 records: %v", err)
	}
	_, err := changeBatch(t, c, id, append(sets(types.ChangeActionDelete, 100), rrChange(types.ChangeActionCreate, "one.limits.test.", types.RRTypeA, 60, "10.9.9.9"))...)
	wantBatchError(t, err, "Number of records limit of 1000 exceeded.")
	// An UPSERT's records count twice: 501 of them are over.
	_, err = changeBatch(t, c, id, append(sets(types.ChangeActionUpsert, 50), rrChange(types.ChangeActionUpsert, "one.limits.test.", types.RRTypeA, 60, "10.9.9.9"))...)
	wantBatchError(t, err, "Number of records limit of 1000 exceeded.")

	// 32,000 characters of values: eight TXT values of 4,000 characters are the most; an
	// UPSERT's count twice.
	txt := func(name string, n int) types.Change {
		var strs []string
		for n > 0 {
			k := min(n-3, 255)
			strs = append(strs, `"`+strings.Repeat("x", k)+`"`)
			n -= k + 3
		}
		value := strings.Join(strs, " ")
		return rrChange(types.ChangeActionCreate, name, types.RRTypeTxt, 60, value)
	}
	var eight []types.Change
	for i := range 8 {
		ch := txt(fmt.Sprintf("t%d.limits.test.", i), 3999)
		if n := len(aws.ToString(ch.ResourceRecordSet.ResourceRecords[0].Value)); n < 3990 || n > 4000 {
			t.Fatalf("test value of %d characters", n)
		}
		eight = append(eight, ch)
	}
	if _, err := changeBatch(t, c, id, eight...); err != nil {
		t.Fatalf("eight values of about 4,000 characters: %v", err)
	}
	nine := append(eight, txt("t8.limits.test.", 3999))
	for i := range nine {
		nine[i].Action = types.ChangeActionDelete
	}
	nine[8].Action = types.ChangeActionCreate
	_, err = changeBatch(t, c, id, nine...)
	wantBatchError(t, err, "RDATA character limit of 32000 exceeded.")
	upserts := eight[:5]
	for i := range upserts {
		upserts[i].Action = types.ChangeActionUpsert
	}
	_, err = changeBatch(t, c, id, upserts...)
	wantBatchError(t, err, "RDATA character limit of 32000 exceeded.")

	// A value over 4,000 characters is refused by the schema.
	_, err = changeBatch(t, c, id, rrChange(types.ChangeActionCreate, "big.limits.test.", types.RRTypeTxt, 60, `"`+strings.Repeat("x", 3999)+`"`))
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "with length = '4001' is not facet-valid with respect to maxLength '4000' for type 'RData'") {
		t.Errorf("4,001 characters: %v", err)
	}
}

func TestRecordValueSyntax(t *testing.T) {
	_, c := start(t, Options{})
	id := stripPrefix(aws.ToString(createTestZone(t, c, "syntax.test.", "syntax").HostedZone.Id))
	fatal := func(problem, value string) string {
		return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", problem, value)
	}
	unquoted := "InvalidCharacterString (Value should be enclosed in quotation marks)"
	good := []struct {
		typ   types.RRType
		value string
	}{
		{types.RRTypeTxt, `"v=spf1 -all"`},
		{types.RRTypeTxt, `"one" "two"`},
		{types.RRTypeTxt, `""`},
		{types.RRTypeTxt, `"say \"hi\" \\o/ \101"`},
		{types.RRTypeTxt, `"` + strings.Repeat("x", 255) + `"`},
		{types.RRTypeTxt, `"` + strings.Repeat(`\"`, 255) + `"`},
		{types.RRTypeSpf, `"v=spf1 include:example.com -all"`},
		{types.RRTypeMx, "10 mail.example.com."},
		{types.RRTypeMx, "0 mail"},
		{types.RRTypeSrv, "1 10 5269 xmpp.example.com."},
		{types.RRTypeCname, "target.example.com"},
	}
	for i, g := range good {
		if _, err := changeBatch(t, c, id, rrChange(types.ChangeActionCreate, fmt.Sprintf("g%d.syntax.test.", i), g.typ, 60, g.value)); err != nil {
			t.Errorf("%s %s: %v", g.typ, g.value, err)
		}
	}
	bad := []struct {
		typ   types.RRType
		value string
		want  string
	}{
		{types.RRTypeTxt, "v=spf1 -all", fatal(unquoted, "v=spf1 -all")},
		{types.RRTypeTxt, "token", fatal(unquoted, "token")},
		{types.RRTypeTxt, `"unterminated`, fatal(unquoted, `"unterminated`)},
		{types.RRTypeTxt, `"a"b`, fatal(unquoted, `"a"b`)},
		{types.RRTypeTxt, `""aaa" "bbb""`, fatal(unquoted, `""aaa" "bbb""`)},
		{types.RRTypeTxt, `"a\"`, fatal(unquoted, `"a\"`)},
		{types.RRTypeTxt, " ", fatal(unquoted, " ")},
		{types.RRTypeTxt, `"` + strings.Repeat("x", 256) + `"`, fatal("CharacterStringTooLong (Value is too long)", `"`+strings.Repeat("x", 256)+`"`)},
		{types.RRTypeSpf, "v=spf1", fatal(unquoted, "v=spf1")},
		{types.RRTypeMx, "mail.example.com.", fatal("MXRRDATAPriorityRequired (Value must be a priority from 0 to 65535 and a mail server host name)", "mail.example.com.")},
		{types.RRTypeMx, "70000 mail.example.com.", fatal("MXRRDATAPriorityRequired (Value must be a priority from 0 to 65535 and a mail server host name)", "70000 mail.example.com.")},
		{types.RRTypeMx, "10 a..b", "Invalid Resource Record: FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..b'"},
		{types.RRTypeSrv, "1 10 xmpp.example.com.", fatal("SRVRRDATAIllegalFormat (Value must be a priority, a weight and a port, each from 0 to 65535, and a server host name)", "1 10 xmpp.example.com.")},
		{types.RRTypeCname, "a..example.com", "Invalid Resource Record: FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..example.com'"},
	}
	for i, b := range bad {
		_, err := changeBatch(t, c, id, rrChange(types.ChangeActionCreate, fmt.Sprintf("b%d.syntax.test.", i), b.typ, 60, b.value))
		wantBatchError(t, err, b.want)
	}
}
