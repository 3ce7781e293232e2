# Purser's everyday commands. `make run` and `make test` are the README's two.
GO       ?= go
MODULE   := github.com/purserhq/purser
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(MODULE).Version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build test lint generate fuzz bench clean

## run: build bin/purser and run the server on its embedded default (SQLite in ./purser-data)
run:
	@test -x bin/purser || echo "building bin/purser: the first build downloads Go modules and compiles Kubernetes' client; it takes a few minutes"
	@$(MAKE) --no-print-directory build
	./bin/purser server $(ARGS)

## build: build bin/purser
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/purser ./cmd/purser

## test: every test; PostgreSQL ones too when PURSER_TEST_POSTGRES_URL is set. As root it first
## makes the user exec commands run as (tools/test-user.sh)
test:
	sh tools/test-user.sh
	$(GO) test -count=1 ./...

## fuzz: every fuzz target for its budget (about 10 s each; FUZZTIME overrides); CI runs it
fuzz:
	sh tools/fuzz.sh

## generate: compile the web UI's templ templates (internal/ui/*.templ) into their committed *_templ.go
generate:
	bash tools/templ.sh

## lint: go vet, gofmt, staticcheck, and the generated templ files current
lint:
	bash tools/templ.sh --check
	@big="$$(git ls-files -z | xargs -0 -r du -k 2>/dev/null | awk '$$1 > 2048 {print $$2}')"; if [ -n "$$big" ]; then echo "tracked files over 2 MiB (build output?): $$big"; exit 1; fi
	$(GO) vet ./...
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "not gofmt-formatted: $$unformatted"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

## bench: the benchmarks in bench/ (PURSER_BENCH_POSTGRES_URL adds PostgreSQL); not part of CI
bench:
	$(GO) run ./bench

clean:
	rm -rf bin
