#!/usr/bin/env bash
# Reads the demo's --metrics and --json files with the tools a site would read them with
# (docs/monitoring.md):
#   - Prometheus's own parser and linter, `promtool check metrics`, on an audit's and a
#     scan's metrics file: any parse error or lint problem fails;
#   - node_exporter's textfile collector serving both files at once on a loopback port:
#     the scrape must report no textfile error, carry the JSON's figures, and the exporter
#     must log no error (two files exposing one series is only logged);
#   - the JSON of both against docs/summary.schema.json with Python's `jsonschema`.
# promtool is in Debian's `prometheus` package and node_exporter in
# `prometheus-node-exporter` (`apt-file search bin/promtool`); both are downloaded with
# apt-get and unpacked under target/metrics-check/, not installed, so no daemon starts on
# the machine. python3-jsonschema is installed when Python lacks jsonschema. A tool that
# cannot be had is a failure, never a skip.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
root=$PWD
bin=${REPUDIATE_BIN:-$root/target/release/repudiate}
[ -x "$bin" ] || cargo build --locked --release --quiet
out=$root/target/metrics-check
tools=$out/tools
mkdir -p "$tools"
rm -rf "$out/run"
mkdir -p "$out/run/textfile"
die() { echo "metrics-check: $*" >&2; exit 1; }

apt_q() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q "$@"; }

# unpack PKG BIN: usr/bin/BIN of Debian's package PKG as $tools/BIN (downloaded once and
# kept for the next run; the rest of the package is thrown away)
unpack() {
  local pkg=$1 name=$2 deb
  [ -x "$tools/$name" ] && return 0
  rm -rf "$tools/tmp" && mkdir -p "$tools/tmp"
  (cd "$tools/tmp" && { apt_q download "$pkg" >/dev/null 2>&1 ||
    { apt_q update >/dev/null && apt_q download "$pkg" >/dev/null; }; }) ||
    die "apt-get download $pkg failed"
  deb=$(ls "$tools"/tmp/"${pkg}"_*.deb | head -n1)
  dpkg-deb -x "$deb" "$tools/tmp/root" || die "cannot unpack $deb"
  [ -x "$tools/tmp/root/usr/bin/$name" ] || die "no usr/bin/$name in Debian's $pkg package"
  mv "$tools/tmp/root/usr/bin/$name" "$tools/$name"
  rm -rf "$tools/tmp"
}
unpack prometheus promtool
unpack prometheus-node-exporter prometheus-node-exporter
promtool=$tools/promtool
exporter=$tools/prometheus-node-exporter
"$promtool" --version | head -n1
"$exporter" --version 2>&1 | head -n1
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  apt_q install -y python3-jsonschema >/dev/null ||
    { apt_q update >/dev/null && apt_q install -y python3-jsonschema >/dev/null; } ||
    die "cannot install python3-jsonschema"
fi

run=$out/run
demo=(mail.mbox maillog --perimeter 198.51.100.0/28)
(cd fixtures/demo && "$bin" audit "${demo[@]}" --zone what-if.zone --offline -q \
  -o "$run/pairs.csv" --history "$run/history.csv" \
  --metrics "$run/textfile/audit.prom" --json "$run/audit.json")
(cd fixtures/demo && "$bin" scan "${demo[@]}" -q -o "$run/scan.csv" \
  --metrics "$run/textfile/scan.prom" --json "$run/scan.json")

for f in audit scan; do
  # promtool prints each lint problem and exits non-zero on one; nothing printed is clean
  problems=$("$promtool" check metrics <"$run/textfile/$f.prom" 2>&1) ||
    die "promtool check metrics on the $f file: $problems"
  [ -z "$problems" ] || die "promtool check metrics on the $f file: $problems"
  echo "promtool check metrics: $f.prom clean ($(grep -c '^# TYPE' "$run/textfile/$f.prom") families)"
done

# node_exporter with only the textfile collector, on a free loopback port
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$exporter" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$run/textfile" \
  >"$run/node_exporter.log" 2>&1 &
exporter_pid=$!
trap 'kill "$exporter_pid" 2>/dev/null || true' EXIT
python3 - "$port" "$run" <<'EOF'
import json, sys, time, urllib.request
port, run = sys.argv[1], sys.argv[2]
for _ in range(100):
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("metrics-check: node_exporter did not answer (see node_exporter.log)")
samples = {}
for line in body.splitlines():
    if line and not line.startswith("#"):
        series, value = line.rsplit(" ", 1)
        samples[series] = float(value)
if samples.get("node_textfile_scrape_error") != 0:
    sys.exit("metrics-check: node_exporter's textfile collector reports an error:\n" + body[:4000])
audit = json.load(open(f"{run}/audit.json"))
scan = json.load(open(f"{run}/scan.json"))
want = {
    'repudiate_messages{command="audit"}': audit["messages"],
    'repudiate_messages{command="scan"}': scan["messages"],
    'repudiate_verdict_messages{command="audit",verdict="repudiated"}':
        audit["verdicts"]["repudiated"]["messages"],
    'repudiate_last_run_timestamp_seconds{command="audit"}': audit["run_at_unix"],
    'repudiate_exit_status{command="scan"}': scan["exit_status"],
}
for series, value in want.items():
    if samples.get(series) != value:
        sys.exit(f"metrics-check: node_exporter serves {series} = {samples.get(series)}, the JSON says {value}")
ours = sum(1 for s in samples if s.startswith("repudiate_"))
print(f"node_exporter textfile collector: both files served, {ours} repudiate_ samples, no scrape error")
EOF
# two files exposing one series (the `command` label is there to prevent it) are an error
# node_exporter only logs
if grep -q 'level=error' "$run/node_exporter.log"; then
  die "node_exporter logged errors: $(grep 'level=error' "$run/node_exporter.log" | head -c 2000)"
fi

python3 - "$root/docs/summary.schema.json" "$run/audit.json" "$run/scan.json" <<'EOF'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path))), key=str)
    if errors:
        sys.exit(f"metrics-check: {path} does not match the schema:\n" + "\n".join(e.message for e in errors))
    print(f"jsonschema: {path.rsplit('/', 1)[1]} matches docs/summary.schema.json")
EOF
echo "metrics-check: ok"
