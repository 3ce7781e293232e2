package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/exec"
)

// Agent is the daemon of one host: it registers the host with a join
// token, then reports it alive every Interval with its own credential.
type Agent struct {
	Client   *client.Client // the server; its Token is set at registration
	Host     client.HostRegistration
	Interval time.Duration
	Log      io.Writer
	// RunAs is the user hooks run as (a name, or uid[:gid]); RunAsRoot
	// lets an agent running as root run them as root. WorkDir is their
	// working directory and HOME.
	RunAs     string
	RunAsRoot bool
	WorkDir   string
}

// Run registers the host and heartbeats until ctx ends. A heartbeat that
// fails is logged and tried again at the next tick; a refused credential
// (the host retired) ends the run.
func (a *Agent) Run(ctx context.Context) error {
	cred, err := exec.HookCredential(a.RunAs, a.RunAsRoot)
	if err != nil {
		return UsageError{err}
	}
	if a.WorkDir == "" {
		a.WorkDir = os.TempDir()
	}
	reg, err := a.Client.RegisterHost(ctx, a.Host)
	if client.StatusCode(err) == 401 {
		// Not the login hint Message adds to a 401: the join token is the credential here.
		return fmt.Errorf("register host %s: %v; ask an admin for a new one (purser join-tokens create)", a.Host.Name, OneLine(err))
	}
	if err != nil {
		return fmt.Errorf("register host %s: %w", a.Host.Name, err)
	}
	a.Client.Token = reg.Credential
	fmt.Fprintf(a.Log, "registered host %s (%d cores, %s): %s\n", reg.Host.Name, reg.Host.Cores, purser.FormatBytes(reg.Host.Memory), reg.Host.State)
	hooks := &hookRunner{a: a, cred: cred, queue: make(chan claimed, 64)}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { hooks.loop(ctx) })
	defer func() { cancel(); wg.Wait() }()
	hooks.claim(ctx)
	t := time.NewTicker(a.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := a.runOnce(ctx); err != nil {
			return err
		}
		hooks.claim(ctx)
	}
}

// runOnce sends one heartbeat.
func (a *Agent) runOnce(ctx context.Context) error {
	_, err := a.Client.Heartbeat(ctx, a.Host.Name)
	var ce *client.Error
	switch {
	case err == nil || ctx.Err() != nil:
		return nil
	case errors.As(err, &ce) && (ce.Status == http.StatusUnauthorized || ce.Status == http.StatusForbidden):
		return fmt.Errorf("heartbeat of host %s refused: %w", a.Host.Name, err)
	}
	fmt.Fprintf(a.Log, "heartbeat failed (will retry): %v\n", err)
	return nil
}

// memTotal reads the machine's memory from /proc/meminfo (bytes).
func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("/proc/meminfo has no MemTotal")
}

func newAgentCmd(cli *env) *cobra.Command {
	var in client.HostRegistration
	var labels []string
	var memory string
	var interval time.Duration
	var runAs, workDir string
	var runAsRoot bool
	cmd := &cobra.Command{Use: "agent --server URL --join-token T", Short: "Run a host's agent: register it, then report it alive", Args: cobra.NoArgs,
		Long: "The agent registers this machine (its name, address, cores and memory, read from the system) with a join token,\n" +
			"receives its own credential, and sends a heartbeat every 10 s until stopped. It runs the hooks of its host's pool\n" +
			"(join, leave, reboot) as the server hands them over, under the exec rules: a clean environment, the --run-as user,\n" +
			"the whole process group killed at the timeout; their output is the run's live log (purser hosts runs HOST).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if in.JoinToken == "" {
				in.JoinToken = os.Getenv("PURSER_JOIN_TOKEN")
			}
			if err := agentFacts(&in, memory, labels); err != nil {
				return err
			}
			a := &Agent{Client: client.New(c.BaseURL, ""), Host: in, Interval: interval, Log: cli.stderr, RunAs: runAs, RunAsRoot: runAsRoot, WorkDir: workDir}
			return a.Run(cmd.Context())
		}}
	f := cmd.Flags()
	f.StringVar(&in.JoinToken, "join-token", "", "a join token from 'purser join-tokens create' (default $PURSER_JOIN_TOKEN)")
	f.StringVar(&in.Name, "name", "", "the host's name (default: the machine's hostname)")
	f.StringVar(&in.Address, "address", "", "the address the pool reaches it at")
	f.StringArrayVar(&labels, "labels", nil, "a label, key=value (repeat)")
	f.IntVar(&in.Cores, "cores", 0, "cores to report (default: the machine's, runtime.NumCPU)")
	f.StringVar(&memory, "memory", "", "memory to report, e.g. 64GiB (default: the machine's, /proc/meminfo)")
	f.DurationVar(&interval, "interval", purser.DefaultHeartbeat, "time between heartbeats")
	f.StringVar(&runAs, "run-as", "", "the user hooks run as: a name, or uid[:gid] (needed when the agent runs as root)")
	f.BoolVar(&runAsRoot, "run-as-root", false, "run hooks as root when the agent runs as root (kubeadm join needs it)")
	f.StringVar(&workDir, "work-dir", "", "the hooks' working directory and HOME (default: the system's temporary directory)")
	return cmd
}

// agentFacts fills what the flags left out from the system.
func agentFacts(in *client.HostRegistration, memory string, labels []string) error {
	var err error
	if len(labels) > 0 { // none: a host registering again keeps the labels it has
		if in.Labels, err = parseLabels(labels); err != nil {
			return err
		}
	}
	if in.Name == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("hostname: %w (pass --name)", err)
		}
		in.Name = strings.ToLower(h)
	}
	if in.Cores == 0 {
		in.Cores = runtime.NumCPU()
	}
	if memory != "" {
		in.Memory, err = memoryFlag(memory)
		return err
	}
	if in.Memory, err = memTotal(); err != nil {
		return fmt.Errorf("read memory: %w (pass --memory)", err)
	}
	return nil
}
