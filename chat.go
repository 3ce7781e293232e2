package purser

import (
	"fmt"
	"slices"
	"strings"
)

// ChatUsage is the grammar chat users are reminded of when a command is not
// understood (the seed's Slack bot's, with tags that may hold dots).
const ChatUsage = "deploy to <cluster> <service>:<tag>[,<service>:<tag>], deploy to <cluster> all:<tag>, " +
	"or deploy to <cluster> <service> to list its 10 newest tags"

// ChatCommand is a deploy asked for in chat: either new tags for services
// of a cluster (Tags, or AllTag for every service), or the newest tags of
// one service (ListTags).
type ChatCommand struct {
	Cluster string
	// Tags are the services to change and their new tags, in the order given.
	Tags []ServiceTag
	// AllTag, when set, is the tag every service of the stack gets.
	AllTag string
	// ListTags names the service whose newest tags to list.
	ListTags string
}

// ServiceTag is a service and the image tag it is to run.
type ServiceTag struct {
	Service string
	Tag     string
}

var (
	chatClusterRE = boundedPattern(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`, 1, 100)
	chatServiceRE = boundedPattern(`^[A-Za-z0-9][A-Za-z0-9_/-]*$`, 1, 100)
)

// ParseChatCommand parses a chat command: "deploy to <cluster>
// <service>:<tag>[,<service>:<tag>]", "deploy to <cluster> all:<tag>" or
// "deploy to <cluster> <service>". Spaces after commas are allowed, and a
// leading mention of the bot ("<@U123>") is skipped. A command that does
// not parse is EINVALID, with a message that names what is wrong and
// recalls the grammar.
func ParseChatCommand(text string) (ChatCommand, error) {
	f := strings.Fields(text)
	if len(f) > 0 && strings.HasPrefix(f[0], "<@") && strings.HasSuffix(f[0], ">") {
		f = f[1:]
	}
	if why := chatHeadFault(f); why != "" {
		return ChatCommand{}, chatUsageError(why)
	}
	c := ChatCommand{Cluster: f[2]}
	spec := strings.Join(f[3:], "")
	if !strings.Contains(spec, ":") && !strings.Contains(spec, ",") {
		if !chatServiceRE.MatchString(spec) {
			return ChatCommand{}, chatUsageError(fmt.Sprintf("%q is not a service name", spec))
		}
		c.ListTags = spec
		return c, nil
	}
	tags, why := parseServiceTags(spec)
	if why != "" {
		return ChatCommand{}, chatUsageError(why)
	}
	if len(tags) == 1 && tags[0].Service == "all" {
		c.AllTag = tags[0].Tag
	} else {
		c.Tags = tags
	}
	return c, nil
}

// chatUsageError is EINVALID: what is wrong, then the grammar.
func chatUsageError(why string) error {
	return Errorf(EINVALID, "%s. Try: %s", why, ChatUsage)
}

// chatHeadFault says what is wrong with a command's words before the
// services ("deploy to <cluster>"), or "".
func chatHeadFault(f []string) string {
	switch {
	case len(f) == 0:
		return "say what to deploy"
	case !strings.EqualFold(f[0], "deploy"):
		return fmt.Sprintf("%q is not a command I know", f[0])
	case len(f) < 2 || !strings.EqualFold(f[1], "to"):
		return "\"deploy\" must be followed by \"to <cluster>\""
	case len(f) < 3:
		return "name the cluster to deploy to"
	case !chatClusterRE.MatchString(f[2]):
		return fmt.Sprintf("%q is not a cluster name", f[2])
	case len(f) < 4:
		return fmt.Sprintf("name the services to deploy to %s, as <service>:<tag>", f[2])
	}
	return ""
}

// parseServiceTags parses "<service>:<tag>[,<service>:<tag>]", or says
// what is wrong with it; "all" may only stand alone.
func parseServiceTags(spec string) ([]ServiceTag, string) {
	var tags []ServiceTag
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		svc, tag, ok := strings.Cut(part, ":")
		switch {
		case part == "":
			return nil, "an empty entry between commas"
		case !ok || tag == "":
			return nil, fmt.Sprintf("%q has no tag: write <service>:<tag>", part)
		case !chatServiceRE.MatchString(svc):
			return nil, fmt.Sprintf("%q is not a service name", svc)
		case !imageTagRE.MatchString(tag):
			return nil, fmt.Sprintf("%q is not an image tag (letters, digits, '_', '.' and '-', at most 128)", tag)
		case seen[svc]:
			return nil, svc + " is named twice"
		}
		seen[svc] = true
		tags = append(tags, ServiceTag{svc, tag})
	}
	if seen["all"] && len(tags) > 1 {
		return nil, "all:<tag> sets every service; name no other"
	}
	return tags, ""
}

// Apply returns a copy of sf with the command's tags set: ENOTFOUND names a
// service the stack does not have. It is the revision a chat deploy
// proposes.
func (c ChatCommand) Apply(sf *Stackfile) (*Stackfile, error) {
	tags := c.Tags
	if c.AllTag != "" {
		tags = nil
		for _, sv := range sf.Services {
			tags = append(tags, ServiceTag{sv.Name, c.AllTag})
		}
	}
	if len(tags) == 0 {
		return nil, Errorf(EINVALID, "the stack of %s has no services to deploy", c.Cluster)
	}
	out := sf
	for _, st := range tags {
		next, err := out.UpdateService(st.Service, ServiceUpdate{ImageTag: &st.Tag})
		if ErrorCode(err) == ENOTFOUND {
			names := make([]string, len(sf.Services))
			for i, sv := range sf.Services {
				names[i] = sv.Name
			}
			slices.Sort(names)
			return nil, Errorf(ENOTFOUND, "the stack of %s has no service %s (it has %s)", c.Cluster, st.Service, strings.Join(names, ", "))
		}
		if err != nil {
			return nil, err
		}
		out = next
	}
	return out, nil
}

// Message is the revision message of a chat deploy by the named chat user.
func (c ChatCommand) Message(chatUser string) string {
	what := "all:" + c.AllTag
	if c.AllTag == "" {
		parts := make([]string, len(c.Tags))
		for i, st := range c.Tags {
			parts[i] = st.Service + ":" + st.Tag
		}
		what = strings.Join(parts, ",")
	}
	return fmt.Sprintf("slack: @%s deploy %s", chatUser, what)
}
