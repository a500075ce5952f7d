package alertrules

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the rules of the given files and directories (every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by ruleId. The error joins one *FieldError per problem.
func Load(paths ...string) ([]Rule, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	var rules []Rule
	var errs []error
	for _, f := range files {
		rs, ferrs := loadFile(f)
		rules = append(rules, rs...)
		errs = append(errs, ferrs...)
	}
	errs = append(errs, checkUnique(rules)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sortRules(rules)
	return rules, nil
}

func sortRules(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int { return strings.Compare(a.RuleID, b.RuleID) })
}

func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no rule files given")
	}
	seen := map[string]bool{}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isRuleFile(path) || seen[path] {
				return nil
			}
			seen[path] = true
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

func isRuleFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func loadFile(file string) ([]Rule, []error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{err}
	}
	return parseFile(file, b)
}

// parseFile decodes and validates the definitions in b, read from file.
func parseFile(file string, b []byte) ([]Rule, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []error{&FieldError{File: file, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil, []error{&FieldError{File: file, Msg: "no rules"}}
	}
	root := doc.Content[0]
	var items []*yaml.Node
	switch {
	case root.Kind == yaml.SequenceNode:
		items = root.Content
	case root.Kind == yaml.MappingNode && mapValue(root, "rules") != nil:
		if len(root.Content) != 2 {
			return nil, []error{&FieldError{File: file, Line: root.Line, Msg: `a file with a "rules" list holds nothing else`}}
		}
		rs := mapValue(root, "rules")
		if rs.Kind != yaml.SequenceNode {
			return nil, []error{&FieldError{File: file, Line: rs.Line, Field: "rules", Msg: "must be a list of rules"}}
		}
		items = rs.Content
	case root.Kind == yaml.MappingNode:
		items = []*yaml.Node{root}
	default:
		return nil, []error{&FieldError{File: file, Line: root.Line, Msg: "must hold a rule, a list of rules or a mapping with a rules list"}}
	}
	var rules []Rule
	var errs []error
	for _, n := range items {
		r, rerrs := decodeRule(file, n)
		if len(rerrs) > 0 {
			errs = append(errs, rerrs...)
			continue
		}
		if verrs := r.validate(); len(verrs) > 0 {
			errs = append(errs, verrs...)
			continue
		}
		rules = append(rules, r)
	}
	return rules, errs
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
