package purser

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// constEval is a footprint evaluator for tests: every expression is 1.
type constEval struct{}

func (constEval) Check(string, []string) error                 { return nil }
func (constEval) Eval(string, map[string]any) (float64, error) { return 1, nil }

func TestNewRequest(t *testing.T) {
	t.Parallel()
	tpl := &Template{Meta: Meta{ID: "small"}, IsActive: true, ResourceType: "KUBERNETES", TTLDefault: 48 * time.Hour, TTLMax: 72 * time.Hour,
		Params: []Param{{Name: "pw", Type: "string", Secret: true}}}
	past, far := t0.Add(-time.Hour), t0.Add(100*time.Hour)
	tests := []struct {
		name    string
		in      RequestInput
		tpl     *Template
		code    string
		expires time.Time
	}{
		{"DefaultTTL", RequestInput{}, tpl, "", t0.Add(48 * time.Hour)},
		{"TTL", RequestInput{TTL: 72 * time.Hour}, tpl, "", t0.Add(72 * time.Hour)},
		{"ErrTTLBeyondMax", RequestInput{TTL: 73 * time.Hour}, tpl, EINVALID, time.Time{}},
		{"ErrExpiresInPast", RequestInput{ExpiresBy: &past}, tpl, EINVALID, time.Time{}},
		{"ErrExpiresBeyondMax", RequestInput{ExpiresBy: &far}, tpl, EINVALID, time.Time{}},
		{"ErrOtherResourceType", RequestInput{ResourceType: "EKS"}, tpl, EINVALID, time.Time{}},
		{"ErrRequestType", RequestInput{RequestType: "FOREVER"}, tpl, EINVALID, time.Time{}},
		{"ExplicitTemporary", RequestInput{RequestType: "TEMPORARY"}, tpl, "", t0.Add(48 * time.Hour)},
		{"ErrInactiveTemplate", RequestInput{}, &Template{Meta: Meta{ID: "old"}}, EINVALID, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _, err := NewRequest(tt.in, tt.tpl, dev, constEval{}, t0)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err == nil && (!r.ExpiresBy.Equal(tt.expires) || r.Status != StatusRequested || r.RequestType != RequestTemporary || r.ResourceType != "KUBERNETES") {
				t.Fatalf("request %+v", r)
			}
		})
	}
	t.Run("ErrPermanentRefusedWithItsReason", func(t *testing.T) {
		t.Parallel()
		_, _, err := NewRequest(RequestInput{RequestType: "PERMANENT"}, tpl, dev, constEval{}, t0)
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "request_type" ||
			!strings.Contains(e.Fields[0].Message, "every environment expires") {
			t.Fatalf("PERMANENT: %v", err)
		}
	})
	t.Run("SecretsSplitOut", func(t *testing.T) {
		t.Parallel()
		r, secrets, err := NewRequest(RequestInput{ResourceParameters: map[string]any{"pw": "s3cret"}}, tpl, dev, constEval{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if r.ResourceParameters["pw"] != SecretMask || secrets["pw"] != "s3cret" {
			t.Fatalf("params %v secrets %v", r.ResourceParameters, secrets)
		}
	})
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    SubmitFacts
		code string
	}{
		{"OK", SubmitFacts{Pending: 9, Fit: fits}, ""},
		{"ErrTooManyPending", SubmitFacts{Pending: 10, Fit: fits}, ECONFLICT},
		{"ConfiguredPending", SubmitFacts{Pending: 10, MaxPending: 11, Fit: fits}, ""},
		{"ErrQuotaExceeded", SubmitFacts{Fit: tooBig}, ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := request(StatusRequested).Submit(nil, tt.f)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err == nil && (kinds(c.Jobs) != "analyse" || c.Events[0].Action != "request.create") {
				t.Fatalf("change %+v", c)
			}
		})
	}
}
