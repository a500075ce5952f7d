package seeddef

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

// Kind is a kind of definition as files and errors name it.
type Kind struct {
	Name   string // one definition: rule, dashboard
	Plural string // rules, dashboards: also the key of a file's list
}

// Files returns the files of paths, sorted and each once: a file as given,
// and every .yaml, .yml and .json file below a directory.
func (k Kind) Files(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no %s files given", k.Name)
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
			if !d.IsDir() && isDefinitionFile(path) {
				add(path)
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

func isDefinitionFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Loader loads the definitions of one kind.
type Loader[T any] struct {
	Kind
	// Decode decodes and validates one definition n of file; a definition
	// with errors is left out.
	Decode func(file string, n *yaml.Node) (T, []error)
	// Check, if set, returns the problems of the definitions of all files
	// together, such as an ID defined twice.
	Check func([]T) []error
	// ID is what Load sorts the definitions by.
	ID func(T) string
}

// Load reads the definitions of paths (see Files and Parse), checks them
// together and returns them sorted by ID. The error joins one error per
// problem: a *FieldError, or the error of a file it cannot read; an error
// of Files is returned as it is.
func (l Loader[T]) Load(paths ...string) ([]T, error) {
	files, err := l.Files(paths)
	if err != nil {
		return nil, err
	}
	var out []T
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ds, ferrs := l.Parse(f, b)
		out = append(out, ds...)
		errs = append(errs, ferrs...)
	}
	if l.Check != nil {
		errs = append(errs, l.Check(out)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(l.ID(a), l.ID(b)) })
	return out, nil
}

// Parse decodes the definitions in b, read from file: one definition, a
// list of them, or a mapping whose only key is the kind's Plural holding
// the list. It returns the definitions Decode accepts, and one error per
// problem: *FieldError for those of the file's shape.
func (l Loader[T]) Parse(file string, b []byte) ([]T, []error) {
	items, err := l.items(file, b)
	if err != nil {
		return nil, []error{err}
	}
	var out []T
	var errs []error
	for _, n := range items {
		d, derrs := l.Decode(file, n)
		if len(derrs) > 0 {
			errs = append(errs, derrs...)
			continue
		}
		out = append(out, d)
	}
	return out, errs
}

// items returns the definitions' nodes in b.
func (k Kind) items(file string, b []byte) ([]*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &FieldError{File: file, Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &FieldError{File: file, Msg: "no " + k.Plural}
	}
	root := doc.Content[0]
	switch list := mapValue(root, k.Plural); {
	case root.Kind == yaml.SequenceNode:
		return root.Content, nil
	case root.Kind == yaml.MappingNode && list != nil:
		if len(root.Content) != 2 {
			return nil, &FieldError{File: file, Line: root.Line, Msg: fmt.Sprintf("a file with a %q list holds nothing else", k.Plural)}
		}
		if list.Kind != yaml.SequenceNode {
			return nil, &FieldError{File: file, Line: list.Line, Field: k.Plural, Msg: "must be a list of " + k.Plural}
		}
		return list.Content, nil
	case root.Kind == yaml.MappingNode:
		return []*yaml.Node{root}, nil
	}
	return nil, &FieldError{File: file, Line: root.Line, Msg: fmt.Sprintf("must hold a %s, a list of %s or a mapping with a %s list", k.Name, k.Plural, k.Plural)}
}
