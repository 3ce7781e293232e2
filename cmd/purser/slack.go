package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"

	"github.com/purserhq/purser/internal/slackbot"
	"github.com/purserhq/purser/internal/sqldb"
)

// SlackConfig configures Purser's Slack app (docs/slack.md): its routes
// /slack/commands, /slack/events and /slack/interactions answer only when
// SigningSecret is set (404 otherwise).
type SlackConfig struct {
	// SigningSecret verifies that requests come from Slack (the app's
	// Basic Information page).
	SigningSecret string `koanf:"signing_secret" yaml:"signing_secret" secret:"true"`
	// BotToken (xoxb-…) calls Slack's Web API: users.info, chat.postMessage
	// and chat.update.
	BotToken string `koanf:"bot_token" yaml:"bot_token" secret:"true"`
	// APIURL is Slack's Web API, ending in "/"; tests point it elsewhere.
	APIURL string `koanf:"api_url" yaml:"api_url"`
}

// Enabled reports whether the Slack app is configured.
func (c SlackConfig) Enabled() bool { return c.SigningSecret != "" }

func (c SlackConfig) validate() error {
	if c.Enabled() && c.BotToken == "" {
		return fmt.Errorf("config: slack.bot_token is required with slack.signing_secret (the app's Bot User OAuth Token, xoxb-…)")
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: slack.api_url must be an http(s) URL like https://slack.com/api/")
		}
	}
	return nil
}

// newSlackBot returns the Slack app over the store, or nil when it is not
// configured. Its calls go to Slack only (a URL the operator chose), with
// a timeout.
func newSlackBot(cfg SlackConfig, db *sqldb.DB, logger *slog.Logger) *slackbot.Bot {
	if !cfg.Enabled() {
		return nil
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	return &slackbot.Bot{SigningSecret: cfg.SigningSecret, Client: slack.New(cfg.BotToken, opts...),
		Users: sqldb.NewUserService(db), Stacks: sqldb.NewStackService(db), Requests: sqldb.NewRequestService(db),
		Threads: sqldb.NewChatThreadService(db), Logger: logger.With("component", "slack"), HTTPClient: hc}
}

// slackMounts is the Slack app as a mount, when it is configured; its tags
// are the API's.
func slackMounts(bot *slackbot.Bot, tags purser.TagLister) []httpserver.Mount {
	if bot == nil {
		return nil
	}
	bot.Tags = tags
	return []httpserver.Mount{bot}
}

// rolloutObserver is the Slack app as the reconciler's observer, or none.
func rolloutObserver(bot *slackbot.Bot) purser.RolloutObserver {
	if bot == nil {
		return nil
	}
	return bot
}
