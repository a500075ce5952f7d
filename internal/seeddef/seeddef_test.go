package seeddef

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFieldErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Line: 3, Owners: []Owner{{"rule", "r1"}}, Field: "condition.metric", Msg: "unknown"},
			`a.yaml:3: rule "r1": field condition.metric: unknown`},
		{FieldError{File: "d.yaml", Line: 8, Owners: []Owner{{"dashboard", "d1"}, {"widget", "w"}}, Field: "layout.widgets[0].type", Msg: "bad"},
			`d.yaml:8: dashboard "d1": widget "w": field layout.widgets[0].type: bad`},
		{FieldError{File: "d.yaml", Line: 8, Owners: []Owner{{"dashboard", "d1"}, {"widget", ""}}, Field: "layout.widgets[0].id", Msg: "missing"},
			`d.yaml:8: dashboard "d1": field layout.widgets[0].id: missing`},
		{FieldError{File: "a.yaml", Owners: []Owner{{"rule", ""}}, Msg: "no rules"}, `a.yaml: no rules`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

type thing struct {
	ID    string
	Name  string
	Count int
	Score float64
	On    bool
	Tags  []string
	Parts []string
}

var (
	things      = Kind{Name: "thing", Plural: "things"}
	thingLoader = Loader[thing]{Kind: things, Decode: decodeThing, ID: func(th thing) string { return th.ID }}
)

// decodeThing decodes a test definition with every decoder of the package.
func decodeThing(file string, n *yaml.Node) (thing, []error) {
	var th thing
	d := &Decoder{File: file, Lines: map[string]int{}}
	d.In(things.Name, ID(n, "id"), func() {
		d.Fields(n, "", map[string]Field{
			"id":    d.String(&th.ID),
			"name":  d.Text(&th.Name),
			"count": d.Int(&th.Count),
			"score": d.Number(&th.Score),
			"on":    d.Bool(&th.On),
			"tags":  d.Strings(&th.Tags, d.String),
			"part": func(n *yaml.Node, path string) {
				d.In("part", ID(n, "id"), func() {
					var id string
					d.Fields(n, path+".", map[string]Field{"id": d.Text(&id)}, []string{"note"}, []string{"id"})
					th.Parts = append(th.Parts, id)
				})
			},
		}, []string{"createdAt"}, []string{"id", "name"})
	})
	return th, d.Errs()
}

func parseErrs(t *testing.T, src string) []string {
	t.Helper()
	_, errs := thingLoader.Parse("x.yaml", []byte(src))
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestDecoderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown field", "id: a\nname: A\ncolour: red\n",
			[]string{`x.yaml:3: thing "a": field colour: unknown field; known fields: count, id, name, on, part, score, tags`}},
		{"given twice", "id: a\nname: A\nname: B\n", []string{`x.yaml:3: thing "a": field name: given twice`}},
		{"missing", "id: a\n", []string{`x.yaml:1: thing "a": field name: missing`}},
		{"not a mapping", "- [1]\n", []string{`x.yaml:1: must be a mapping, got a list`}},
		{"string, not a number", "id: 42\nname: A\n", []string{`x.yaml:1: thing "42": field id: must be a string, got "42"`}},
		{"text takes a number, not null", "- {id: a, name: 42}\n- {id: b, name: null}\n",
			[]string{`x.yaml:2: thing "b": field name: must be a string, got null`}},
		{"whole number", "id: a\nname: A\ncount: 2.5\n", []string{`x.yaml:3: thing "a": field count: must be a whole number, got "2.5"`}},
		{"finite number", "id: a\nname: A\nscore: .inf\n", []string{`x.yaml:3: thing "a": field score: must be a number, got ".inf"`}},
		{"bool", "id: a\nname: A\non: yes\n", []string{`x.yaml:3: thing "a": field on: must be true or false, got "yes"`}},
		{"tagged bool", "id: a\nname: A\non: !!bool maybe\n", []string{`x.yaml:3: thing "a": field on: must be true or false, got "maybe"`}},
		{"list of strings", "id: a\nname: A\ntags: [x, 1]\n", []string{`x.yaml:3: thing "a": field tags[1]: must be a string, got "1"`}},
		{"not a list", "id: a\nname: A\ntags: x\n", []string{`x.yaml:3: thing "a": field tags: must be a list of strings, got "x"`}},
		{"a part's error names the part", "id: a\nname: A\npart: {id: p, size: 1}\n",
			[]string{`x.yaml:3: thing "a": part "p": field part.size: unknown field; known fields: id`}},
		{"after a part, the definition alone", "id: a\npart: {id: p}\ncount: x\n",
			[]string{`x.yaml:3: thing "a": field count: must be a whole number, got "x"`, `x.yaml:1: thing "a": field name: missing`}},
		{"a part with no id", "id: a\nname: A\npart: {note: n}\n", []string{`x.yaml:3: thing "a": field part.id: missing`}},
		{"ignored fields", "id: a\nname: A\ncreatedAt: 1\npart: {id: p, note: n}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErrs(t, tc.src); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDecoderValues(t *testing.T) {
	src := "id: a\nname: 42\ncount: 2.0\nscore: 1e3\non: True\ntags: [x, y]\npart: {id: p}\n"
	got, errs := thingLoader.Parse("x.yaml", []byte(src))
	if len(errs) > 0 || len(got) != 1 {
		t.Fatalf("got %v, %v", got, errs)
	}
	want := thing{ID: "a", Name: "42", Count: 2, Score: 1000, On: true, Tags: []string{"x", "y"}, Parts: []string{"p"}}
	if th := got[0]; th.ID != want.ID || th.Name != want.Name || th.Count != want.Count || th.Score != want.Score ||
		th.On != want.On || !slices.Equal(th.Tags, want.Tags) || !slices.Equal(th.Parts, want.Parts) {
		t.Errorf("got %+v, want %+v", th, want)
	}
}

func TestDecoderLines(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("id: a\nname: A\ntags:\n  - x\n  - y\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var tags []string
	d := &Decoder{File: "x.yaml", Lines: map[string]int{}}
	d.Fields(doc.Content[0], "", map[string]Field{"tags": d.Strings(&tags, d.String)}, []string{"id", "name"}, nil)
	for path, line := range map[string]int{"id": 1, "name": 2, "tags": 3, "tags[0]": 4, "tags[1]": 5} {
		if d.Lines[path] != line {
			t.Errorf("line of %s = %d, want %d", path, d.Lines[path], line)
		}
	}
}

func TestParseShapes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		ids       []string
		errs      []string
	}{
		{"one", "id: a\nname: A\n", []string{"a"}, nil},
		{"a list", "- {id: a, name: A}\n- {id: b, name: B}\n", []string{"a", "b"}, nil},
		{"a mapping with the list", `{"things": [{"id": "a", "name": "A"}]}`, []string{"a"}, nil},
		{"an empty list", `{"things": []}`, nil, nil},
		{"the bad one left out", "- {id: a, name: A}\n- {id: b}\n", []string{"a"}, []string{`x.yaml:2: thing "b": field name: missing`}},
		{"nothing", "", nil, []string{"x.yaml: no things"}},
		{"not YAML", "{{{", nil, []string{"x.yaml: yaml: line 1: did not find expected node content"}},
		{"the list and more", "things: []\nid: a\n", nil, []string{`x.yaml:1: a file with a "things" list holds nothing else`}},
		{"the list not a list", "things: {id: a}\n", nil, []string{"x.yaml:1: field things: must be a list of things"}},
		{"a scalar", "42\n", nil, []string{"x.yaml:1: must hold a thing, a list of things or a mapping with a things list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := thingLoader.Parse("x.yaml", []byte(tc.src))
			var ids, msgs []string
			for _, th := range got {
				ids = append(ids, th.ID)
			}
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !slices.Equal(ids, tc.ids) || !slices.Equal(msgs, tc.errs) {
				t.Errorf("ids %v, errors %q; want %v, %q", ids, msgs, tc.ids, tc.errs)
			}
		})
	}
}

func TestFilesAndLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b := write("b.yaml", "id: b\nname: B\n")
	a := write("sub/a.JSON", `{"id": "a", "name": "A"}`)
	c := write("c.yml", "id: c\nname: C\n")
	write("notes.txt", "not a thing")
	other := write("other.conf", "id: o\nname: O\n")

	files, err := things.Files([]string{dir, b, other})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{b, c, other, a}; !slices.Equal(files, want) {
		t.Errorf("Files = %v, want %v (sorted, each once, a file given by name whatever its extension)", files, want)
	}
	if _, err := things.Files(nil); err == nil || err.Error() != "no thing files given" {
		t.Errorf("Files() error = %v", err)
	}
	if _, err := things.Files([]string{filepath.Join(dir, "missing")}); !os.IsNotExist(err) {
		t.Errorf("Files(missing) error = %v, want the stat error", err)
	}

	ids := func(ths []thing) []string {
		var out []string
		for _, th := range ths {
			out = append(out, th.ID)
		}
		return out
	}
	got, err := thingLoader.Load(dir, other)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "o"}; !slices.Equal(ids(got), want) {
		t.Errorf("Load ids = %v, want %v (sorted by ID)", ids(got), want)
	}

	write("d.yaml", "- {id: a, name: again}\n- {id: d}\n")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "gone.yaml")); err != nil {
		t.Fatal(err)
	}
	twice := thingLoader
	twice.Check = func(ths []thing) []error {
		seen := map[string]bool{}
		var errs []error
		for _, th := range ths {
			if seen[th.ID] {
				errs = append(errs, &FieldError{Owners: []Owner{{"thing", th.ID}}, Msg: "defined twice"})
			}
			seen[th.ID] = true
		}
		return errs
	}
	_, err = twice.Load(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error %v does not hold the unreadable file's", err)
	}
	for _, want := range []string{`d.yaml:2: thing "d": field name: missing`, `: thing "a": defined twice`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load error %q does not hold %q", err, want)
		}
	}
}

// FuzzParse: whatever the bytes, Parse does not panic, every problem is a
// *FieldError that names the file, and the same bytes give the same
// errors (the known fields are listed in one order).
func FuzzParse(f *testing.F) {
	f.Add([]byte("id: a\nname: A\ntags: [x]\npart: {id: p}\n"))
	f.Add([]byte(`{"things": [{"id": "a", "name": 1, "count": 2.0, "on": true}, {"id": "b", "colour": 3}]}`))
	f.Add([]byte("- &x {id: a, name: A}\n- *x\n- 42\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, errs := thingLoader.Parse("x.yaml", b)
		var msgs []string
		for _, err := range errs {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != "x.yaml" || fe.Line < 0 || !strings.HasPrefix(err.Error(), "x.yaml") {
				t.Fatalf("error %v (%T) is not a *FieldError of x.yaml", err, err)
			}
			msgs = append(msgs, err.Error())
		}
		_, again := thingLoader.Parse("x.yaml", b)
		for i, err := range again {
			if i >= len(msgs) || err.Error() != msgs[i] {
				t.Fatalf("a second Parse gave other errors:\n%v\nthen\n%v", errs, again)
			}
		}
		if len(again) != len(msgs) {
			t.Fatalf("a second Parse gave %d errors, the first %d", len(again), len(msgs))
		}
	})
}
