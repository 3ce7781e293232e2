package slackbot

import (
	"context"
	"slices"

	"github.com/purserhq/purser"
)

// as returns ctx acting as the Purser user of a Slack user: the one user
// whose email is the Slack profile's (users.info, which needs the
// users:read and users:read.email scopes), remembered for a minute. The
// error's message (EUNAUTHORIZED when the Slack user is no Purser user)
// is for the Slack user.
func (b *Bot) as(ctx context.Context, slackUser string) (context.Context, *purser.User, error) {
	u, err := b.user(ctx, slackUser)
	if err != nil {
		return nil, nil, err
	}
	return purser.NewContextWithActor(ctx, &purser.Actor{User: u}), u, nil
}

func (b *Bot) user(ctx context.Context, slackUser string) (*purser.User, error) {
	b.mu.Lock()
	c, ok := b.users[slackUser]
	b.mu.Unlock()
	if ok && b.now().Before(c.expires) {
		return c.user, nil
	}
	info, err := b.Client.GetUserInfoContext(ctx, slackUser)
	if err != nil {
		b.Logger.WarnContext(ctx, "slack users.info", "user", slackUser, "error", err)
		return nil, &purser.Error{Code: purser.EUNAUTHORIZED, Err: err,
			Message: "I could not look your Slack profile up; ask an admin to check the app's users:read and users:read.email scopes"}
	}
	email := info.Profile.Email
	if email == "" {
		return nil, purser.Errorf(purser.EUNAUTHORIZED, "your Slack profile shows no email, so I cannot tell which Purser user you are")
	}
	users, _, err := b.Users.FindUsers(purser.SystemContext(ctx), purser.Query{Page: 1, MaxResults: 2,
		Where: []purser.Cond{{Field: "email", Op: "$eq", Value: email}}})
	if err != nil {
		b.Logger.ErrorContext(ctx, "find user by email", "error", err)
		return nil, &purser.Error{Code: purser.EINTERNAL, Err: err, Message: "I could not look your Purser user up; try again"}
	}
	users = slices.DeleteFunc(users, func(u *purser.User) bool { return !u.IsActive })
	switch len(users) {
	case 0:
		return nil, purser.Errorf(purser.EUNAUTHORIZED, "no active Purser user has your Slack email (%s): ask an admin to set it on your Purser user", email)
	case 2:
		return nil, purser.Errorf(purser.EUNAUTHORIZED, "several Purser users have your Slack email (%s): ask an admin to keep it on one only", email)
	}
	b.mu.Lock()
	if b.users == nil {
		b.users = map[string]cachedUser{}
	}
	b.users[slackUser] = cachedUser{users[0], b.now().Add(userTTL)}
	b.mu.Unlock()
	return users[0], nil
}
