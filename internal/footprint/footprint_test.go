package footprint

import "testing"

func TestEval(t *testing.T) {
	var e Evaluator
	tests := []struct {
		name, expr string
		values     map[string]any
		want       float64
		wantErr    bool
	}{
		{"Number", "4", nil, 4, false},
		{"Product", "desired_capacity * 2", map[string]any{"desired_capacity": int64(3)}, 6, false},
		{"Float", "desired_capacity * 0.0116", map[string]any{"desired_capacity": int64(2)}, 0.0232, false},
		{"Conditional", `instance_type == "t2.micro" ? 1 : 4`, map[string]any{"instance_type": "t2.micro"}, 1, false},
		{"ErrNotANumber", `instance_type`, map[string]any{"instance_type": "x"}, 0, true},
		{"ErrMissing", `size * 2`, map[string]any{}, 0, true},
		{"NumericString", "n * 2", map[string]any{"n": "2"}, 4, false},
		{"ErrNaNString", "n * 2", map[string]any{"n": "NaN"}, 0, true},
		{"ErrInfString", "n * 2", map[string]any{"n": "-Inf"}, 0, true},
		{"ErrHugeString", "n * 2", map[string]any{"n": "1e300"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Eval(tt.expr, tt.values)
			if (err != nil) != tt.wantErr || (!tt.wantErr && (got-tt.want > 1e-9 || tt.want-got > 1e-9)) {
				t.Fatalf("Eval(%q) = %v, %v; want %v (err %v)", tt.expr, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	var e Evaluator
	if err := e.Check("desired_capacity * 2", []string{"desired_capacity"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Check("nodes * 2", []string{"desired_capacity"}); err == nil {
		t.Fatal("an expression over an unknown parameter passed")
	}
	if err := e.Check("desired_capacity *", []string{"desired_capacity"}); err == nil {
		t.Fatal("a malformed expression passed")
	}
}
