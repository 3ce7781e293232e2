package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LogLine is one line of a job's log.
type LogLine struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream" enum:"stdout,stderr,purser"`
	Line   string    `json:"line"`
}

// RequestLogs returns a request's job logs after seq.
func (c *Client) RequestLogs(ctx context.Context, id string, after int64) (*List[LogLine], error) {
	var l List[LogLine]
	return &l, c.Do(ctx, http.MethodGet, fmt.Sprintf("%s/provisionRequests/%s/logs?after=%d", APIPath, url.PathEscape(id), after), nil, &l)
}

// FollowLogs streams a request's job logs, calling fn for each line, until
// no job runs for it; it returns the request's status then.
func (c *Client) FollowLogs(ctx context.Context, id string, after int64, fn func(LogLine)) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s%s/provisionRequests/%s/logs?follow=true&after=%d", c.BaseURL, APIPath, url.PathEscape(id), after), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := *c.HTTPClient
	hc.Timeout = 0 // a stream lasts as long as the job
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &UnreachableError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.NewDecoder(resp.Body).Decode(e)
		return "", e
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			if event == "end" {
				var end struct {
					Status string `json:"status"`
				}
				_ = json.Unmarshal(data, &end)
				return end.Status, nil
			}
			var l LogLine
			if err := json.Unmarshal(data, &l); err == nil {
				fn(l)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("the log stream ended early")
}
