package purser

import (
	"fmt"
	"strings"
	"testing"
)

func names(hs []*Host) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return strings.Join(out, ",")
}

// fleet is a free inventory: name:cores:GiB.
func fleet(specs ...string) []*Host {
	var out []*Host
	for _, s := range specs {
		var name string
		var c int
		var g int64
		if _, err := fmt.Sscanf(strings.ReplaceAll(s, ":", " "), "%s %d %d", &name, &c, &g); err != nil {
			panic(s)
		}
		out = append(out, host(name, c, g, HostReady, ""))
	}
	return out
}

func TestBestFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hosts []*Host
		need  Resources
		want  string
		err   string
	}{
		{"OneHostFewestLeftover", fleet("a:32:128", "b:16:64", "c:8:32"), Resources{8, 16 * GiB}, "c", ""},
		{"TieOnCoresLessMemory", fleet("a:8:64", "b:8:32"), Resources{8, 16 * GiB}, "b", ""},
		{"TieByName", fleet("z:8:32", "m:8:32"), Resources{8, 32 * GiB}, "m", ""},
		{"LargestShareThenTightFit", fleet("a:16:64", "b:8:32", "c:4:16"), Resources{20, 80 * GiB}, "a,c", ""},
		{"ExactTwo", fleet("a:16:64", "b:16:64", "c:32:128"), Resources{32, 128 * GiB}, "c", ""},
		{"MemoryBound", fleet("a:64:16", "b:4:128"), Resources{4, 64 * GiB}, "b", ""},
		{"CoresOnly", fleet("a:4:8", "b:2:64"), Resources{Cores: 2}, "b", ""},
		{"NotEnough", fleet("a:4:8", "b:4:8"), Resources{16, 8 * GiB}, "", "needs 16 cores and 8 GiB; the free hosts that match offer 8 cores and 16 GiB in all"},
		{"Empty", nil, Resources{1, 1}, "", "offer 0 cores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := BestFit(tt.hosts, tt.need)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || names(got) != tt.want {
				t.Fatalf("got %s (%v), want %s", names(got), err, tt.want)
			}
		})
	}
}

func TestPlanPool(t *testing.T) {
	t.Parallel()
	hosts := fleet("a:16:64", "b:16:64", "c:16:64", "d:8:32", "e:32:128")
	hosts[1].Labels = map[string]string{"zone": "b"}
	hosts = append(hosts, host("busy", 64, 256, HostAssigned, "other"), host("down", 64, 256, HostUnhealthy, ""))
	tests := []struct {
		name          string
		pool          Pool
		members, spar string
		over          Resources
		err           string
	}{
		{"MembersAndSpare", Pool{Name: "p", Cores: 32, Memory: 128 * GiB, Spares: 1}, "e", "", Resources{}, "no spare fits: needs 32 cores and 128 GiB, largest free 16 and 64"},
		{"Overshoot", Pool{Name: "p", Cores: 20, Memory: 64 * GiB, Spares: 1}, "e", "", Resources{}, "no spare fits"},
		{"SpareAsLargeAsLargestMember", Pool{Name: "p", Cores: 16, Memory: 64 * GiB, Spares: 2}, "a", "b,c", Resources{0, 0}, ""},
		{"TwoMembers", Pool{Name: "p", Cores: 40, Memory: 160 * GiB}, "d,e", "", Resources{0, 0}, ""},
		{"Selector", Pool{Name: "p", Cores: 8, Memory: 32 * GiB, Selector: map[string]string{"zone": "b"}}, "b", "", Resources{8, 32 * GiB}, ""},
		{"TooBig", Pool{Name: "p", Cores: 200, Memory: GiB}, "", "", Resources{}, "pool p cannot be placed: needs 200 cores and 1 GiB; the free hosts that match offer 88 cores and 352 GiB in all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan, err := PlanPool(&tt.pool, hosts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || ErrorCode(err) != ECONFLICT {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names(plan.Members) != tt.members || names(plan.Spares) != tt.spar || plan.Overshoot != tt.over {
				t.Fatalf("got %s + spares %s over %v (%v)", names(plan.Members), names(plan.Spares), plan.Overshoot, err)
			}
		})
	}
}

func TestCreatePool(t *testing.T) {
	t.Parallel()
	hosts := fleet("a:16:64", "b:16:64", "c:8:32")
	p := &Pool{Name: "web", Cores: 16, Memory: 64 * GiB, Spares: 1}
	if _, _, err := CreatePool(&Actor{User: dev}, p, hosts, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("dev: %v", err)
	}
	if _, _, err := CreatePool(&Actor{User: ops}, &Pool{Name: "Bad Name", Cores: 1}, hosts, t0); ErrorCode(err) != EINVALID {
		t.Fatalf("bad name: %v", err)
	}
	plan, ch, err := CreatePool(&Actor{User: ops}, p, hosts, t0)
	if err != nil || names(plan.Members) != "a" || names(plan.Spares) != "b" || p.State != PoolActive {
		t.Fatalf("create: %v %v", plan, err)
	}
	var actions []string
	for _, e := range ch.Events {
		actions = append(actions, e.Action+":"+e.TargetID)
	}
	if got := strings.Join(actions, " "); got != "pool.create:web host.join:a host.reserve:b" {
		t.Fatalf("events %s", got)
	}
	for _, r := range ch.Rows[1:] {
		h := r.(*Host)
		if h.Pool != "web" || (h.Name == "a") == h.Spare || hosts[0].Pool != "" {
			t.Fatalf("host row %+v (inputs must not change)", h)
		}
	}
	if _, _, err := CreatePool(&Actor{User: ops}, &Pool{Name: "big", Cores: 32, MaxHosts: 1}, hosts, t0); ErrorCode(err) != ECONFLICT {
		t.Fatalf("above max hosts: %v", err)
	}
}

// BenchmarkBestFit places a 1 000-core pool over 10 000 free hosts of
// mixed sizes (target: under 10 ms an operation).
func BenchmarkBestFit(b *testing.B) {
	sizes := []struct {
		c int
		g int64
	}{{4, 16}, {8, 32}, {16, 64}, {32, 128}, {64, 256}, {12, 48}, {24, 96}}
	hosts := make([]*Host, 10_000)
	for i := range hosts {
		s := sizes[(i*7+i/13)%len(sizes)]
		hosts[i] = host(fmt.Sprintf("h%05d", i), s.c, s.g, HostReady, "")
	}
	p := &Pool{Name: "p", Cores: 1000, Memory: 4000 * GiB, Spares: 2}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanPool(p, hosts); err != nil {
			b.Fatal(err)
		}
	}
}
