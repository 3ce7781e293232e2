package pool_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/pool"
)

func TestPrepareTemplate(t *testing.T) {
	cores := purser.Param{Name: "cores", Type: purser.ParamInteger, Required: true}
	mem := purser.Param{Name: "memory_gib", Type: purser.ParamNumber, Required: true}
	tests := []struct {
		name          string
		t             purser.Template
		wantFootprint purser.FootprintExprs
		wantErr       string // a field named in the error
	}{
		{"OKFillsFootprint", purser.Template{Params: []purser.Param{cores, mem}}, purser.FootprintExprs{Cores: "cores", Memory: "memory_gib"}, ""},
		{"OKFromConfig", purser.Template{Params: []purser.Param{cores}, Config: map[string]any{"memory_gib": 64.0, "selector": map[string]any{"rack": "1"}}},
			purser.FootprintExprs{Cores: "cores", Memory: "64"}, ""},
		{"OKKeepsFootprint", purser.Template{Params: []purser.Param{cores}, Footprint: purser.FootprintExprs{Cores: "cores * 2", CostPerHour: "cores * 0.01"}},
			purser.FootprintExprs{Cores: "cores * 2", CostPerHour: "cores * 0.01"}, ""},
		{"ErrNoSize", purser.Template{Params: []purser.Param{{Name: "spares", Type: purser.ParamInteger}}}, purser.FootprintExprs{}, "params"},
		{"ErrCoresType", purser.Template{Params: []purser.Param{{Name: "cores", Type: purser.ParamString}}}, purser.FootprintExprs{}, "params[0].type"},
		{"ErrSelectorType", purser.Template{Params: []purser.Param{cores, {Name: "selector", Type: purser.ParamInteger}}}, purser.FootprintExprs{}, "params[1].type"},
		{"ErrUnknownConfig", purser.Template{Params: []purser.Param{cores}, Config: map[string]any{"provision": "rm -rf /"}}, purser.FootprintExprs{}, "config.provision"},
		{"ErrConfigType", purser.Template{Params: []purser.Param{cores}, Config: map[string]any{"spares": "two"}}, purser.FootprintExprs{}, "config.spares"},
		{"ErrConfigSelector", purser.Template{Params: []purser.Param{cores}, Config: map[string]any{"selector": "rack=1"}}, purser.FootprintExprs{}, "config.selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := tt.t
			err := (&pool.Driver{}).PrepareTemplate(context.Background(), &tmpl)
			if tt.wantErr != "" {
				var pe *purser.Error
				if purser.ErrorCode(err) != purser.EINVALID || !asError(err, &pe) || pe.Fields[0].Field != tt.wantErr {
					t.Fatalf("got %v, want a 422 naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFootprint, tmpl.Footprint); diff != "" {
				t.Fatalf("footprint (-want +got):\n%s", diff)
			}
		})
	}
}

func asError(err error, pe **purser.Error) bool {
	e, ok := err.(*purser.Error)
	*pe = e
	return ok && len(e.Fields) > 0
}

func TestSpec(t *testing.T) {
	base := func() purser.Environment {
		return purser.Environment{RequestID: "ABC_1", Params: map[string]any{"cores": int64(6), "memory_gib": 1.5},
			Config: map[string]any{"spares": 1.0, "max_hosts": 4.0, "selector": map[string]any{"rack": "1"}}}
	}
	t.Run("OK", func(t *testing.T) {
		e := base()
		e.Params["selector"] = "gpu=no, zone=a"
		p, err := pool.Spec(e)
		if err != nil {
			t.Fatal(err)
		}
		want := &purser.Pool{Name: pool.PoolName("ABC_1"), Cores: 6, Memory: 3 * purser.GiB / 2, Spares: 1, MaxHosts: 4,
			Selector: map[string]string{"rack": "1", "gpu": "no", "zone": "a"}}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Fatalf("spec (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(p.Name, "env-") || len(p.Name) != 24 || p.Name != pool.PoolName("ABC_1") {
			t.Fatalf("name of an id that is no DNS label: %q", p.Name)
		}
	})
	t.Run("ErrSelectorContradicts", func(t *testing.T) {
		e := base()
		e.Params["selector"] = "rack=2"
		if _, err := pool.Spec(e); err == nil || !strings.Contains(err.Error(), "the template fixes rack=1") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrSelectorSyntax", func(t *testing.T) {
		e := base()
		e.Params["selector"] = "rack"
		if _, err := pool.Spec(e); purser.ErrorCode(err) != purser.EINVALID {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrNoSize", func(t *testing.T) {
		e := base()
		e.Params = map[string]any{}
		if _, err := pool.Spec(e); purser.ErrorCode(err) != purser.EINVALID {
			t.Fatalf("got %v", err)
		}
	})
}
