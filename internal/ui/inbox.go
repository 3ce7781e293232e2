package ui

import (
	"net/http"
	"strings"

	"github.com/purserhq/purser"
)

// inboxData is the inbox's.
type inboxData struct {
	Items  []inboxItem
	Unread int
}

// inboxItem is one notification.
type inboxItem struct {
	ID, Title, Description, Link string
	At                           timeView
	Unread                       bool
}

// pageLink turns a notification's API path into the UI page about the
// same thing, when there is one.
func pageLink(apiPath string) string {
	const requests = "/api/v1/provisionRequests/"
	if id, ok := strings.CutPrefix(apiPath, requests); ok && id != "" && !strings.Contains(id, "/") {
		return "/requests/" + id
	}
	return ""
}

// inbox serves GET /inbox: the caller's inbox notifications, newest
// first, fifty of them.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	ns, _, err := s.Notifications.FindNotifications(r.Context(), purser.Query{Where: []purser.Cond{eq("channel", "inbox")},
		Sort: []purser.Sort{{Field: "_created", Desc: true}}, Page: 1, MaxResults: 50, SkipTotal: true}, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := inboxData{}
	for _, n := range ns {
		it := inboxItem{ID: n.ID, Title: n.Title, Description: n.Description, Link: pageLink(n.Link), At: newTime(n.Created), Unread: n.ReadAt == nil}
		if it.Unread {
			d.Unread++
		}
		d.Items = append(d.Items, it)
	}
	s.render(w, r, http.StatusOK, "inbox", "Inbox", d)
}

// markAllRead serves POST /inbox/read.
func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Notifications.MarkAllRead(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}
