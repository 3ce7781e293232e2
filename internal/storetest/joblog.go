package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testJobLogs(t *testing.T, open Opener) {
	t.Run("ConcurrentWritersKeepEveryLine", func(t *testing.T) { t.Parallel(); testConcurrentJobLogs(t, open) })
	t.Run("LostLinesAreReported", func(t *testing.T) { t.Parallel(); testLostJobLogLines(t, open) })
}

// testLostJobLogLines: lines a write could not keep (here: the request
// does not exist) are counted, and Close reports them with the cause.
func testLostJobLogLines(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	log := db.OpenJobLog("no-such-request")
	for i := range 3 {
		log.WriteLine("stdout", fmt.Sprint(i))
	}
	err := log.Close()
	var lost *sqldb.LostLinesError
	if !errors.As(err, &lost) || lost.Lines != 3 || lost.Err == nil {
		t.Fatalf("Close = %v, want 3 lost lines and their cause", err)
	}
	if !strings.Contains(err.Error(), "3 log lines were lost") {
		t.Fatalf("Close = %q, want it to say how many lines were lost", err)
	}
}

// testConcurrentJobLogs: a purge starts while provisioning still logs, so
// two writers append to one request's log at once. Every line is kept,
// under its own seq, and each writer's lines read back in the order written.
func testConcurrentJobLogs(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	r, err := sqldb.NewRequestService(db).CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	if err != nil {
		t.Fatal(err)
	}
	const writers, lines = 2, 5000
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := db.OpenJobLog(r.ID)
			for i := range lines {
				log.WriteLine("stdout", fmt.Sprintf("w%d %d", w, i))
			}
			errs[w] = log.Close()
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: Close: %v", w, err)
		}
	}
	logs := sqldb.NewLogService(db)
	var got []purser.LogLine
	for after := int64(0); ; {
		page, err := logs.FindLogs(devCtx, r.ID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	if len(got) != writers*lines {
		t.Fatalf("kept %d of %d lines", len(got), writers*lines)
	}
	next := make([]int, writers) // the line each writer wrote next
	seen := map[int64]bool{}
	for _, ln := range got {
		if seen[ln.Seq] {
			t.Fatalf("seq %d read twice", ln.Seq)
		}
		seen[ln.Seq] = true
		w, i, _ := strings.Cut(strings.TrimPrefix(ln.Line, "w"), " ")
		wi, _ := strconv.Atoi(w)
		ii, _ := strconv.Atoi(i)
		if wi < 0 || wi >= writers || ii != next[wi] {
			t.Fatalf("seq %d is %q, want writer %d's line %d", ln.Seq, ln.Line, wi, next[wi])
		}
		next[wi]++
	}
}
