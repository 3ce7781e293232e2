package ui

import (
	"fmt"
	"net/http"

	"github.com/purserhq/purser"
)

// quotaData is the quotas page's: the caller's usage, and everyone's for
// those who may read every quota.
type quotaData struct {
	Mine   []fitBar
	Others []userBars
}

// userBars is one user's usage as bars.
type userBars struct {
	Username string
	Limited  bool
	Bars     []fitBar
}

// usageBars draws a user's usage: what is held, and what waits for
// review, against the limits.
func usageBars(u *purser.UserUsage) []fitBar {
	checks := purser.CheckQuota(u.Limits, u.Used, u.Pending, purser.Footprint{})
	for i := range checks {
		checks[i].Asked = []float64{u.Pending.Environments, u.Pending.Cores, u.Pending.Memory, u.Pending.MonthlyCost}[i]
	}
	bars := fitBars(checks)
	for i, c := range checks {
		if c.Limit != nil {
			bars[i].Text = fmt.Sprintf("%s held + %s waiting for review, of %s", num(c.Used), num(c.Asked), num(*c.Limit))
		} else {
			bars[i].Text = fmt.Sprintf("%s held + %s waiting for review, no limit", num(c.Used), num(c.Asked))
		}
	}
	return bars
}

// quotas serves GET /quotas: usage against limits as bars, in one query
// for the caller and one for everyone.
func (s *Server) quotas(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), user(r)
	mine, err := s.Quotas.Usage(ctx, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := quotaData{}
	if len(mine) > 0 {
		d.Mine = usageBars(mine[0])
	}
	if purser.ActorFromContext(ctx).Can(purser.ActionQuotaRead) {
		all, err := s.Quotas.Usage(ctx, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, x := range all {
			if x.User.ID != u.ID {
				d.Others = append(d.Others, userBars{Username: x.User.Username, Limited: x.Limited, Bars: usageBars(x)})
			}
		}
	}
	s.render(w, r, http.StatusOK, "quotas", "Quotas", d)
}
