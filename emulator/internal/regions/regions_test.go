package regions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// part is a fake service part: the region its document records, and the document's name.
type part struct{ region, doc string }

// opener opens documents in dir as files holding their region, created with the region asked.
func opener(dir string) Opener[part] {
	return func(region, doc string) (part, string, error) {
		path := filepath.Join(dir, doc+".json")
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			data, err = []byte(region), os.WriteFile(path, []byte(region), 0o600)
		}
		if err != nil {
			return part{}, "", err
		}
		return part{region: string(data), doc: doc}, string(data), nil
	}
}

func closePart(part) error { return nil }

// The home region is NAME.json's; every other region is NAME-REGION.json; another set on the
// same directory finds every region's document whatever its own fallback.
func TestSet(t *testing.T) {
	dir := t.TempDir()
	set, err := Open(dir, "svc", "eu-west-1", opener(dir), closePart)
	if err != nil {
		t.Fatal(err)
	}
	eu, _ := set.Get("eu-west-1")
	us, _ := set.Get("us-east-1")
	if eu.doc != "svc" || us.doc != "svc-us-east-1" || us.region != "us-east-1" {
		t.Errorf("eu-west-1 in %s, us-east-1 in %s (%s)", eu.doc, us.doc, us.region)
	}
	if _, err := set.Get("mars-east-1"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("Get(mars-east-1) = %v, want ErrUnknownRegion", err)
	}

	other, err := Open(dir, "svc", "us-east-1", opener(dir), closePart)
	if err != nil {
		t.Fatal(err)
	}
	if us, _ := other.Get("us-east-1"); us.doc != "svc-us-east-1" {
		t.Errorf("another set's us-east-1 in %s", us.doc)
	}
	other.Get("ap-south-1")
	all, err := set.All()
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for _, p := range all {
		regions = append(regions, p.region)
	}
	if !slices.Equal(regions, []string{"ap-south-1", "eu-west-1", "us-east-1"}) {
		t.Errorf("All = %v", regions)
	}

	// An unknown fallback creates nothing.
	empty := t.TempDir()
	if _, err := Open(empty, "svc", "mars-east-1", opener(empty), closePart); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("Open(mars-east-1) = %v", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("an unknown region left %d files", len(entries))
	}
}
