package purser

import (
	"reflect"
	"testing"
)

func TestDefaultChannels(t *testing.T) {
	t.Parallel()
	if got := DefaultChannels(false); !reflect.DeepEqual(got, []string{ChannelInbox}) {
		t.Errorf("without SMTP: %v, want the inbox alone (email would fail every time)", got)
	}
	if got := DefaultChannels(true); !reflect.DeepEqual(got, []string{ChannelInbox, ChannelEmail}) {
		t.Errorf("with SMTP: %v, want inbox and email", got)
	}
}

func TestPreferencesValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		p      Preferences
		email  bool
		fields string // the fields named, "" when valid
	}{
		{"OKInbox", Preferences{Channels: []string{"inbox"}}, false, ""},
		{"OKEmailConfigured", Preferences{Channels: []string{"inbox", "email"}}, true, ""},
		{"ErrEmailNotConfigured", Preferences{Channels: []string{"inbox", "email"}}, false, "channels[1]"},
		{"ErrUnknownChannel", Preferences{Channels: []string{"pager"}}, true, "channels[0]"},
		{"ErrSlackWithoutURL", Preferences{Channels: []string{"slack"}}, true, "slack_webhook"},
		{"ErrWebhookWithoutURLOrSecret", Preferences{Channels: []string{"webhook"}}, true, "webhook_url"},
		{"ErrWebhookWithoutSecret", Preferences{Channels: []string{"webhook"}, WebhookURL: "https://hooks.example/x"}, true, "webhook_secret"},
		{"OKWebhook", Preferences{Channels: []string{"webhook"}, WebhookURL: "https://hooks.example/x", WebhookSecret: "s"}, false, ""},
		{"ErrEveryFault", Preferences{Channels: []string{"email", "slack", "fax"}}, false, "channels[0],channels[2],slack_webhook"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.p.Validate(c.email)
			got := ""
			if e, ok := err.(*Error); ok {
				for i, f := range e.Fields {
					if i > 0 {
						got += ","
					}
					got += f.Field
				}
			} else if err != nil {
				t.Fatalf("%v is not a *Error", err)
			}
			if got != c.fields {
				t.Fatalf("fields %q (%v), want %q", got, err, c.fields)
			}
		})
	}
}
