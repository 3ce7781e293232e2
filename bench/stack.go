package main

import (
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// stackResult is the cost of a stack of n services: reading its
// stackfile (parse, schema, rules, normalise) against a bare YAML decode
// of the same text, and planning it against a target where a tenth of
// the services run another image and a tenth another count.
type stackResult struct {
	n                  int
	read, bareDecode   time.Duration // medians
	plan               time.Duration // median
	updates, unchanged int
}

// bigStackfile is a stackfile of n services, each on a port behind a
// private load balancer, depending in chains of ten, with a secret.
func bigStackfile(n int) []byte {
	var sb strings.Builder
	sb.WriteString("logging: {log_driver: awslogs, options: {awslogs-group: /ecs/big}}\ndefaults:\n  memory: 512\n  environment:\n    - A: 1\nservices:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - svc-%04d:\n      image: r/svc-%04d:v1\n      ports: [\"8080:8080\"]\n      environment:\n        - SECRET: ${SECRET}\n", i, i)
		if i%10 != 0 {
			fmt.Fprintf(&sb, "      depends_on: [svc-%04d]\n", i-1)
		}
		sb.WriteString("      elb: {type: private, ports: {public: 80, container: 8080}}\n")
	}
	return []byte(sb.String())
}

// runStack measures a stack of n services, each figure the median of
// rounds runs.
func runStack(n, rounds int) stackResult {
	text := bigStackfile(n)
	median := func(f func()) time.Duration {
		ds := make([]time.Duration, rounds)
		for i := range ds {
			start := time.Now()
			f()
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	r := stackResult{n: n}
	var desired *purser.Stackfile
	r.read = median(func() {
		sf, err := stackfile.Parse(text)
		if err != nil {
			log.Fatal(err)
		}
		desired = sf.Normalize()
	})
	r.bareDecode = median(func() {
		var v any
		if err := yaml.Unmarshal(text, &v); err != nil {
			log.Fatal(err)
		}
	})
	actual := make([]purser.ActualService, len(desired.Services))
	for i, sv := range desired.Services {
		actual[i] = purser.ActualService{Spec: sv, RunningCount: sv.Count()}
		switch i % 10 {
		case 3:
			actual[i].Spec.Image += "-old"
		case 7:
			five := 5
			actual[i].Spec.DesiredCount = &five
		}
	}
	var p purser.Plan
	r.plan = median(func() { p = purser.PlanStack(desired, actual) })
	r.updates, r.unchanged = p.Count(purser.PlanUpdate), p.Count(purser.PlanUnchanged)
	return r
}
