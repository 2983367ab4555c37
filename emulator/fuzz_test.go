package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequests sends arbitrary requests of each protocol's shape to the emulator: whatever
// arrives, it answers (an error in the protocol's shape for nonsense) and never panics.
func FuzzRequests(f *testing.F) {
	f.Add("POST", "/", "", "Action=RunInstances&ImageId=ami-0639efad2af438260&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=ClientId&TagSpecification.1.Tag.1.Value=acme")
	f.Add("POST", "/", "", "Action=DescribeInstances&Filter.1.Name=tag:ClientId&Filter.1.Value.1=acme&MaxResults=5")
	f.Add("POST", "/", "", "Action=CreateTags&ResourceId.1=i-0&Tag.1.Key=a")
	f.Add("POST", "/", "AmazonSSM.PutParameter", `{"Name":"acme.X","Value":"v","Type":"SecureString","Overwrite":true}`)
	f.Add("POST", "/", "AmazonSSM.GetParameters", `{"Names":["acme.X","/a/b"],"WithDecryption":true}`)
	f.Add("POST", "/", "AmazonSSM.DescribeParameters", `{"ParameterFilters":[{"Key":"Name","Option":"BeginsWith","Values":["acme."]}]}`)
	f.Add("POST", "/2013-04-01/hostedzone", "", `<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>local.</Name><CallerReference>r</CallerReference></CreateHostedZoneRequest>`)
	f.Add("POST", "/2013-04-01/hostedzone/Z1/rrset", "", `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>a.local.</Name><Type>A</Type><TTL>300</TTL></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	f.Add("GET", "/2013-04-01/hostedzonesbyname?dnsname=local.&maxitems=1", "", "")
	f.Add("PUT", "/latest/api/token", "", "")
	f.Add("GET", "/latest/meta-data/tags/instance/ClientId", "", "")
	e, err := New(Options{Seed: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	f.Fuzz(func(t *testing.T, method, target, amzTarget, body string) {
		req, err := http.NewRequest(method, "http://emulator.invalid"+target, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		if amzTarget != "" {
			req.Header.Set("X-Amz-Target", amzTarget)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		} else if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code == 0 {
			t.Fatal("no answer")
		}
	})
}
