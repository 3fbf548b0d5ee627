#!/usr/bin/env bash
# JSON codec: the project's WireJSON (WireJSONEncoder, WireJSONDecoder over the strict JSONParser,
# EventDocument, the sla-timer's changelog value) against Foundation's JSONEncoder/JSONDecoder
# configured the same way, on the wire's real payloads. Runs the package-benchmark suite in
# Benchmarks/ (its own package and .build), prints one table, and fails when a WireJSON
# operation is no longer faster than Foundation's by the factor stated for it below.
# Needs no system package: on Swift 6.3 package-benchmark counts allocations with its own
# malloc interposer (a package dependency), not jemalloc.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "swift 6 is required on PATH (https://swift.org/install)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Builds the suite in release mode, then runs each benchmark; the JMH export is one JSON line.
swift package --package-path Benchmarks benchmark --no-progress --format jmh --path stdout >"$work/out"

python3 - "$work/out" <<'EOF'
import json, sys

# Least speed-up (Foundation's time / WireJSON's) each operation must keep: about 80% of the
# lowest ratio measured when the suite was written (docs/benchmarks.md, "JSON codec").
minimum = {
    "encode TicketReceived": 1.2,
    "decode TicketReceived": 1.1,
    "encode TicketClassified": 1.4,
    "decode TicketClassified": 1.1,
    "envelope+decode TicketClassified": 1.3,
    "encode FirstResponseClock": 1.8,
    "decode FirstResponseClock": 2.5,
    "parse TicketReceived": 1.4,
}
SCALE = 1000  # operations per measured iteration: the suite's scalingFactor (.kilo)

line = next((l for l in open(sys.argv[1]) if l.startswith("[{")), None)  # build progress lines start with "[n/m]"
if line is None:
    sys.exit("bench-codec: the benchmark printed no results")
results = {}
for entry in json.loads(line):
    name = entry["benchmark"].split(".", 3)[-1].replace("_", " ")  # package.benchmark.<target>.<name>
    operation, codec = name.rsplit(" · ", 1)
    metrics = entry["secondaryMetrics"]
    wall = sorted(metrics["Time (wall clock)"]["rawData"][0])
    mallocs = metrics.get("Malloc (total)", {}).get("scorePercentiles", {}).get("50.0")
    results.setdefault(operation, {})[codec] = {
        # Lower quartile of the time per iteration (µs per 1,000 operations = ns per operation):
        # other work on the two cores stretches the upper half of the samples, not this.
        "ns": wall[len(wall) // 4] * 1000 / SCALE,
        "mallocs": None if mallocs is None else mallocs / SCALE,
    }

print()
print("JSON codec: WireJSON against Foundation's JSONEncoder/JSONDecoder (same configuration), per operation;")
print("lower quartile of the wall-clock time, release build, one core")
header = f"{'operation':34} {'WireJSON µs':>12} {'Foundation µs':>14} {'ratio':>6} {'min':>5} {'allocs W/F':>11}"
print(header)
print("-" * len(header))
failed = []
for operation in minimum:
    pair = results.get(operation, {})
    if "WireJSON" not in pair or "Foundation" not in pair:
        failed.append(f"{operation}: not measured")
        continue
    ours, theirs = pair["WireJSON"], pair["Foundation"]
    ratio = theirs["ns"] / ours["ns"]
    allocs = "—" if ours["mallocs"] is None else f"{ours['mallocs']:.0f}/{theirs['mallocs']:.0f}"
    mark = "" if ratio >= minimum[operation] else "  BELOW"
    print(f"{operation:34} {ours['ns'] / 1000:12.2f} {theirs['ns'] / 1000:14.2f} {ratio:5.2f}x {minimum[operation]:4.1f}x {allocs:>11}{mark}")
    if ratio < minimum[operation]:
        failed.append(f"{operation}: {ratio:.2f}x, needs {minimum[operation]:.1f}x")
if failed:
    print("WireJSON is not as far ahead of Foundation as it must be:", file=sys.stderr)
    for problem in failed:
        print("  " + problem, file=sys.stderr)
    sys.exit(1)
print("every operation is at least as far ahead as its minimum")
EOF
