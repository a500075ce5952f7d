package dashboards

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the dashboard definitions in paths (files, or every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by dashboardId. The error joins one *FieldError per problem.
func Load(paths ...string) ([]Dashboard, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	var out []Dashboard
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ds, ferrs := Parse(f, b)
		out = append(out, ds...)
		errs = append(errs, ferrs...)
	}
	errs = append(errs, checkUnique(out)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(out, func(a, b Dashboard) int { return strings.Compare(a.DashboardID, b.DashboardID) })
	return out, nil
}

func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no dashboard files given")
	}
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					add(path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// Parse decodes and validates the definitions in b, read from file: one
// dashboard, a list of them, or a mapping whose only key is "dashboards".
func Parse(file string, b []byte) ([]Dashboard, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []error{&FieldError{File: file, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil, []error{&FieldError{File: file, Msg: "no dashboards"}}
	}
	root := doc.Content[0]
	var items []*yaml.Node
	switch {
	case root.Kind == yaml.SequenceNode:
		items = root.Content
	case root.Kind == yaml.MappingNode && mapValue(root, "dashboards") != nil:
		if len(root.Content) != 2 {
			return nil, []error{&FieldError{File: file, Line: root.Line, Msg: `a file with a "dashboards" list holds nothing else`}}
		}
		ds := mapValue(root, "dashboards")
		if ds.Kind != yaml.SequenceNode {
			return nil, []error{&FieldError{File: file, Line: ds.Line, Field: "dashboards", Msg: "must be a list of dashboards"}}
		}
		items = ds.Content
	case root.Kind == yaml.MappingNode:
		items = []*yaml.Node{root}
	default:
		return nil, []error{&FieldError{File: file, Line: root.Line, Msg: "must hold a dashboard, a list of dashboards or a mapping with a dashboards list"}}
	}
	var out []Dashboard
	var errs []error
	for _, n := range items {
		d, derrs := decodeDashboard(file, n)
		if len(derrs) == 0 {
			derrs = d.validate()
		}
		if len(derrs) > 0 {
			errs = append(errs, derrs...)
			continue
		}
		out = append(out, d)
	}
	return out, errs
}

func checkUnique(ds []Dashboard) []error {
	first := map[string]Dashboard{}
	var errs []error
	for _, d := range ds {
		if p, ok := first[d.DashboardID]; ok {
			errs = append(errs, &FieldError{File: d.File, Line: d.Line, DashboardID: d.DashboardID, Field: "dashboardId",
				Msg: fmt.Sprintf("defined twice (first at %s:%d); the Grafana UID must be unique", p.File, p.Line)})
			continue
		}
		first[d.DashboardID] = d
	}
	return errs
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
