package purser

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// stepStore is a TemplateStore that only records the calls made to it: a
// fake on purpose, for the order Catalog keeps (the real store is tested
// against real databases in internal/storetest).
type stepStore struct {
	TemplateService
	steps    []string
	checkErr error
}

func (s *stepStore) CheckNewTemplate(ctx context.Context, t *Template) error {
	s.steps = append(s.steps, "check")
	return s.checkErr
}
func (s *stepStore) CreateTemplate(ctx context.Context, t *Template) error {
	s.steps = append(s.steps, "create")
	return nil
}
func (s *stepStore) TemplateToUpdate(ctx context.Context, id string, upd TemplateUpdate, ifMatch string) (*Template, error) {
	s.steps = append(s.steps, "check")
	return &Template{}, s.checkErr
}
func (s *stepStore) SaveTemplate(ctx context.Context, t *Template) error {
	s.steps = append(s.steps, "save")
	return nil
}

func TestCatalogPreparesBetweenCheckAndWrite(t *testing.T) {
	t.Parallel()
	refused := Errorf(EFORBIDDEN, "no")
	tests := []struct {
		name       string
		checkErr   error
		prepareErr error
		update     bool
		want       string
	}{
		{"Create", nil, nil, false, "check prepare create"},
		{"Update", nil, nil, true, "check prepare save"},
		{"RefusedNeverFetches", refused, nil, false, "check"},
		{"RefusedUpdateNeverFetches", refused, nil, true, "check"},
		{"PrepareFailsNothingWritten", nil, errors.New("fetch failed"), false, "check prepare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &stepStore{checkErr: tt.checkErr}
			c := &Catalog{TemplateStore: st, Prepare: func(ctx context.Context, t *Template) error {
				st.steps = append(st.steps, "prepare")
				return tt.prepareErr
			}}
			var err error
			if tt.update {
				_, err = c.UpdateTemplate(context.Background(), "t", TemplateUpdate{}, "")
			} else {
				err = c.CreateTemplate(context.Background(), &Template{})
			}
			if got := strings.Join(st.steps, " "); got != tt.want {
				t.Fatalf("steps %q, want %q", got, tt.want)
			}
			if (err != nil) != (tt.checkErr != nil || tt.prepareErr != nil) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
