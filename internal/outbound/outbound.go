// Package outbound is the one way Purser makes HTTP calls to addresses a
// user chose: webhooks and Slack webhooks in a developer's preferences,
// and exec templates' url: files (DESIGN.md, "Security model"). Without
// it, such a URL reaches the server's own loopback, the cloud metadata
// service (169.254.169.254) or the private network, and the answer comes
// back to the user in last_error or in the template.
//
// A Policy refuses loopback, link-local, private (RFC 1918, fc00::/7),
// unspecified, multicast, CGNAT (100.64.0.0/10) and other special-purpose
// addresses, in IPv4 and in every IPv6 form that embeds one (IPv4-mapped,
// IPv4-compatible, NAT64, 6to4), unless the admin's allow list (CIDRs or
// host names) lets them. The check is made on the resolved address right
// before connect (net.Dialer.Control), so DNS rebinding and redirects are
// covered, and proxies from the environment are not used, so none can
// carry a call around it.
//
// Kubernetes clusters are not subject to the policy: DevOps users are
// trusted with clusters, which are usually on private addresses, and
// their kubeconfigs are checked instead (internal/driver/kubernetes).
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is the error of a call the policy refused. Its message is
// what users see: it says nothing of the peer.
var ErrRefused = errors.New("refused by outbound policy")

// refused are the special-purpose ranges a call may not reach unless
// allowed, beyond what netip.Addr's predicates cover.
var refused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"; 0.0.0.0 reaches the local host
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT, and some clouds' internal services
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible, with :: and ::1
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID
	netip.MustParsePrefix("2001::/32"),      // Teredo: embeds an IPv4 address we cannot trust
}

// embedsIPv4 are IPv6 ranges whose last or second 32 bits are an IPv4
// address some gateway will reach: such an address is refused when the
// IPv4 address it embeds is.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Policy decides which addresses outbound calls may reach.
type Policy struct {
	nets  []netip.Prefix
	hosts map[string]bool
}

// NewPolicy returns a policy that refuses special-purpose addresses except
// those allowed: each entry of allow is a CIDR ("10.1.0.0/16"), an address
// ("10.1.2.3"), or a host name ("hooks.corp.example") whose calls are
// allowed whatever it resolves to.
func NewPolicy(allow []string) (*Policy, error) {
	p := &Policy{hosts: map[string]bool{}}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		switch pfx, addr := parsePrefix(a), parseAddr(a); {
		case a == "":
		case pfx.IsValid():
			p.nets = append(p.nets, pfx.Masked())
		case addr.IsValid():
			p.nets = append(p.nets, netip.PrefixFrom(addr, addr.BitLen()))
		case validHost(a):
			p.hosts[strings.TrimSuffix(strings.ToLower(a), ".")] = true
		default:
			return nil, fmt.Errorf("outbound.allow: %q is not a CIDR, an IP address or a host name", a)
		}
	}
	return p, nil
}

func parsePrefix(s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr()))
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// AllowsAddr reports whether a call may connect to ip.
func (p *Policy) AllowsAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return !special(ip) || p.allowsEmbedded(ip)
}

// allowsEmbedded reports whether ip embeds an IPv4 address the allow list
// names (a NAT64 form of an allowed address, say).
func (p *Policy) allowsEmbedded(ip netip.Addr) bool {
	v4, ok := embedded(ip)
	if !ok {
		return false
	}
	for _, n := range p.nets {
		if n.Contains(v4) {
			return true
		}
	}
	return false
}

// special reports whether ip is refused unless allowed.
func special(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast() {
		return true
	}
	for _, n := range refused {
		if n.Contains(ip) {
			return true
		}
	}
	if v4, ok := embedded(ip); ok {
		return special(v4)
	}
	return false
}

// embedded returns the IPv4 address a NAT64 or 6to4 address stands for.
func embedded(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case ip.Is6() && nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case ip.Is6() && sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// AllowsHost reports whether the allow list names host, so that calls to
// it may reach whatever it resolves to.
func (p *Policy) AllowsHost(host string) bool {
	return p.hosts[strings.TrimSuffix(strings.ToLower(host), ".")]
}

// control refuses a connection to an address the policy does not allow.
// It runs after DNS resolution, right before connect.
func (p *Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.AllowsAddr(ap.Addr()) {
		return ErrRefused
	}
	return nil
}

// DialContext dials addr ("host:port") as net.Dialer does, refusing an
// address the policy does not allow, whatever the name resolved to.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if host, _, err := net.SplitHostPort(addr); err != nil || !p.AllowsHost(host) {
		d.Control = p.control
	}
	c, err := d.DialContext(ctx, network, addr)
	if errors.Is(err, ErrRefused) {
		return nil, ErrRefused
	}
	return c, err
}

// Client returns an HTTP client whose every connection, redirects
// included, goes through DialContext, and which uses no proxy.
func (p *Policy) Client(timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                 nil, // a proxy from the environment would dial for us, unchecked
		DialContext:           p.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: refusal{t}}
}

// refusal hands back ErrRefused itself, not the dial error around it that
// names the resolved address.
type refusal struct{ http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (r refusal) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.RoundTripper.RoundTrip(req)
	if errors.Is(err, ErrRefused) {
		return nil, ErrRefused
	}
	return resp, err
}
