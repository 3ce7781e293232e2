package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/outbound"
)

func TestAllowsAddr(t *testing.T) {
	t.Parallel()
	refused := []string{
		"127.0.0.1", "127.255.255.254", "::1", // loopback
		"169.254.169.254", "fe80::1", "fe80::1%eth0", // link-local: the metadata service
		"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd12:3456::1", // private
		"0.0.0.0", "::", "0.1.2.3", // unspecified, "this network"
		"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2", // multicast
		"100.64.0.1", "100.127.255.255", // CGNAT
		"255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.0.170",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.1.2.3", // IPv4-mapped
		"::127.0.0.1", "::10.0.0.1", // IPv4-compatible
		"64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", // NAT64 of the metadata service, of loopback
		"2002:7f00:1::1", "2002:a9fe:a9fe::1", // 6to4 of loopback, of the metadata service
		"fec0::1", // site-local
	}
	allowed := []string{"8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}
	p, err := outbound.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range refused {
		if p.AllowsAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is allowed, want refused", s)
		}
	}
	for _, s := range allowed {
		if !p.AllowsAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is refused, want allowed", s)
		}
	}
	if p.AllowsAddr(netip.Addr{}) {
		t.Error("the invalid address is allowed")
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	p, err := outbound.NewPolicy([]string{"127.0.0.0/8", " 10.1.2.3 ", "fd00:1::/32", "::ffff:192.168.0.0/120", "Hooks.Corp.Example.", ""})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"::ffff:127.0.0.2", true}, {"10.1.2.3", true}, {"10.1.2.4", false}, {"fd00:1::5", true}, {"fd00:2::5", false},
		{"192.168.0.9", true}, {"192.168.1.9", false}, {"169.254.169.254", false}, {"64:ff9b::7f00:1", true},
	} {
		if got := p.AllowsAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("AllowsAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !p.AllowsHost("hooks.corp.example") || !p.AllowsHost("HOOKS.corp.example.") || p.AllowsHost("corp.example") || p.AllowsHost("evil.hooks.corp.example") {
		t.Error("host names: want exactly hooks.corp.example, in any case, with or without the final dot")
	}
	for _, bad := range []string{"10.0.0.0/33", "http://x", "a b", "host:80"} {
		if _, err := outbound.NewPolicy([]string{bad}); err == nil || !strings.Contains(err.Error(), "outbound.allow") {
			t.Errorf("NewPolicy(%q): err %v, want one naming outbound.allow", bad, err)
		}
	}
}

// peer is a test server that counts the requests it received.
func peer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv, hits := peer(t, nil)
	p, _ := outbound.NewPolicy(nil)
	err := get(p.Client(5*time.Second), srv.URL)
	if !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
	if strings.Contains(err.Error(), "dial") || strings.Count(err.Error(), "127.0.0.1") > 1 {
		t.Errorf("the error tells of the peer: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the server received a request")
	}
	allowing, _ := outbound.NewPolicy([]string{"127.0.0.0/8"})
	if err := get(allowing.Client(5*time.Second), srv.URL); err != nil || hits.Load() != 1 {
		t.Fatalf("with 127.0.0.0/8 allowed: %v, %d requests", err, hits.Load())
	}
}

// TestDialChecksResolvedAddress: a name is judged by what it resolves to,
// unless the allow list names it.
func TestDialChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	srv, hits := peer(t, nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	u := "http://localhost:" + strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	p, _ := outbound.NewPolicy(nil)
	if _, err := p.DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", strconv.Itoa(port))); !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("dialing localhost: %v, want ErrRefused", err)
	}
	if err := get(p.Client(5*time.Second), u); !errors.Is(err, outbound.ErrRefused) || hits.Load() != 0 {
		t.Fatalf("GET %s: %v, %d requests", u, err, hits.Load())
	}
	byName, _ := outbound.NewPolicy([]string{"localhost"})
	if err := get(byName.Client(5*time.Second), u); err != nil || hits.Load() != 1 {
		t.Fatalf("with localhost allowed by name: %v, %d requests", err, hits.Load())
	}
}

func TestRedirectToRefusedAddressRefused(t *testing.T) {
	t.Parallel()
	inner, innerHits := peer(t, nil)
	outer, outerHits := peer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/latest/meta-data/", http.StatusFound)
	})
	u := "http://localhost:" + strings.TrimPrefix(outer.URL, "http://127.0.0.1:")
	p, _ := outbound.NewPolicy([]string{"localhost"}) // the redirector is allowed, 127.0.0.1 is not
	err := get(p.Client(5*time.Second), u)
	if !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
	if outerHits.Load() != 1 || innerHits.Load() != 0 {
		t.Fatalf("requests: redirector %d, target %d; want 1, 0", outerHits.Load(), innerHits.Load())
	}
}

func TestEnvironmentProxyNotUsed(t *testing.T) {
	proxy, proxyHits := peer(t, nil)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	srv, hits := peer(t, nil)
	p, _ := outbound.NewPolicy([]string{"127.0.0.0/8"})
	// A public name: through the proxy, it would be the proxy (allowed
	// here) that dials it, unchecked.
	pub := (&url.URL{Scheme: "http", Host: "example.invalid"}).String()
	_ = get(p.Client(5*time.Second), pub)
	if err := get(p.Client(5*time.Second), srv.URL); err != nil || hits.Load() != 1 {
		t.Fatalf("direct call: %v, %d requests", err, hits.Load())
	}
	if proxyHits.Load() != 0 {
		t.Fatalf("the environment's proxy received %d requests", proxyHits.Load())
	}
}
