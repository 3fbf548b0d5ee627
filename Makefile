# Convenience targets; each wraps a script that also works without make.
.PHONY: run test bench build clean

run:
	./scripts/run.sh

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

build:
	swift build

clean:
	rm -rf .build
