package api_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogFollowOutlivesTimeouts: a live log stream lasts as long as its job
// runs, however short the server's read and write timeouts.
func TestLogFollowOutlivesTimeouts(t *testing.T) { eachStore(t, testLogFollowOutlivesTimeouts) }

func testLogFollowOutlivesTimeouts(t *testing.T, open store) {
	e := newEnv(t, open)
	// Long enough for the handler to reach the stream on a busy machine.
	const timeout = time.Second
	hs := httptest.NewUnstartedServer(e.srv.Config.Handler)
	hs.Config.ReadTimeout, hs.Config.WriteTimeout = timeout, timeout
	hs.Start()
	t.Cleanup(hs.Close)

	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.submit("dev", seedParams)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200) // APPROVED: a job is due

	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/provisionRequests/"+id+"/logs?follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["dev"])
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	// waitFor reads the stream until a line containing s.
	waitFor := func(s string) {
		t.Helper()
		for lines.Scan() {
			if strings.Contains(lines.Text(), s) {
				return
			}
		}
		t.Fatalf("the stream ended (%v) before %q", lines.Err(), s)
	}
	// Lines written one at a time, each awaited on the stream, until the
	// stream has lived several times the timeouts.
	start := time.Now()
	for i := 0; time.Since(start) < 5*timeout/2; i++ {
		log := e.db.OpenJobLog(id)
		log.WriteLine("stdout", "tick "+strconv.Itoa(i))
		if err := log.Close(); err != nil {
			t.Fatal(err)
		}
		waitFor("tick " + strconv.Itoa(i))
	}
	e.deploy(id)
	waitFor("event: end")
}
