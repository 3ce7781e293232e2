package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is `purser healthcheck`: the container image's
// HEALTHCHECK, which has no shell or curl to probe with (distroless).
func newHealthcheckCmd(stdout io.Writer) *cobra.Command {
	var url, configPath string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Probe a server's /healthz and exit 0 if it answers 200 (for container health checks)",
		Long: "GET /healthz of the server this configuration describes (its listen address, on loopback when it listens\n" +
			"on every interface), or of --url, and exit 0 on 200, 1 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				cfg, err := LoadConfig(configPath, os.Environ())
				if err != nil {
					return err
				}
				host, port, _ := net.SplitHostPort(cfg.Listen)
				if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
					host = "127.0.0.1"
				}
				url = "http://" + net.JoinHostPort(host, port) + "/healthz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
			}
			_, err = fmt.Fprintln(stdout, "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the URL to probe (default: /healthz at the configured listen address)")
	cmd.Flags().StringVar(&configPath, "config", "", "the server's YAML configuration file")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}
