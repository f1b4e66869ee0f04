package loader

import (
	"errors"
	"sort"
	"strings"
)

// List returns every playbook of the catalogue, sorted by name: for each
// name the one Find would load, with the sources it shadows. A file that
// does not load is left out and its error returned, joined, alongside the
// entries that did load.
func (c *Catalog) List() ([]Entry, error) {
	var out []Entry
	byName := map[string]int{}
	var errs []error
	for _, p := range c.places() {
		files, err := p.files()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Within a place, NAME.yaml wins over another file whose name: is
		// NAME, as in Find: so files named after their playbook come first.
		for _, f := range namedFirst(p, files) {
			pb, err := c.load(p, f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if i, seen := byName[pb.Name]; seen {
				out[i].Shadows = append(out[i].Shadows, pb.Source)
				continue
			}
			byName[pb.Name] = len(out)
			out = append(out, Entry{Name: pb.Name, Version: pb.Version, Incident: pb.Incident,
				Description: pb.Description, Source: pb.Source, Findings: pb.Findings, Auto: pb.Auto})
		}
	}
	sortEntries(out)
	return out, errors.Join(errs...)
}

func namedFirst(p place, files []string) []string {
	var named, other []string
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".yaml"), ".yml")
		if peekName(p.fsys, f) == base {
			named = append(named, f)
		} else {
			other = append(other, f)
		}
	}
	return append(named, other...)
}

func sortEntries(list []Entry) {
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
}
