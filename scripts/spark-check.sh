#!/usr/bin/env bash
# The Spark recipe of docs/scale.md, run end to end on Apache Spark in local mode (local[2]):
# four mail hosts' logs from ../shared/bench/gen.py (postfix twice, one of them rotated into
# two files, sendmail, exim; seeded), `repudiate scan -` as the map step through RDD.pipe over
# one partition per host (scripts/spark_recipe.py), repudiate's merge of the per-host pairs
# files as the reduce. Passes when the merged CSV is byte-identical to one `repudiate scan`
# over the same logs, and when the same job with the first host cut into two partitions in
# the middle of a queue id's record (the byte-offset partitioning docs/scale.md forbids) does
# NOT give that result and counts fewer messages.
#
# Installs what it needs and fails, never skips, when it cannot: Debian's headless OpenJDK 17
# (bookworm's JDK; Spark 3.5 supports 8, 11 and 17) and pyspark from PyPI into a venv under
# target/ (pip's cache makes a second run quick).
# usage: scripts/spark-check.sh [WORKDIR]   (default target/spark-check; REPUDIATE=binary)
set -euo pipefail
cd "$(dirname "$0")/.."
PYSPARK_VERSION=3.5.9
JDK_PACKAGE=openjdk-17-jre-headless
GEN=${REPUDIATE_SHARED:-../shared}/bench/gen.py
WORK=${1:-target/spark-check}
VENV=target/spark-venv
BIN=${REPUDIATE:-target/release/repudiate}
log() { printf 'spark-check: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
[ -f "$GEN" ] || fail "$GEN not found (set REPUDIATE_SHARED)"
[ -x "$BIN" ] || cargo build --release --locked --quiet
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# --- prerequisites: Java from Debian, pyspark from PyPI ------------------------------------
if ! dpkg -s "$JDK_PACKAGE" >/dev/null 2>&1; then
  log "installing $JDK_PACKAGE"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q "$JDK_PACKAGE" >/dev/null ||
    { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
      "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q "$JDK_PACKAGE" >/dev/null; } ||
    fail "could not install $JDK_PACKAGE"
fi
JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(dpkg -L "$JDK_PACKAGE" | grep '/bin/java$' | head -n 1)")")")
[ -x "$JAVA_HOME/bin/java" ] || fail "no java in $JDK_PACKAGE"
export JAVA_HOME
log "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"

PY=$VENV/bin/python
if ! "$PY" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
  log "installing pyspark $PYSPARK_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || fail "python3 -m venv failed (Debian's python needs python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION" ||
    fail "pip could not install pyspark==$PYSPARK_VERSION"
fi
log "pyspark $("$PY" -c 'import pyspark; print(pyspark.__version__)') on $("$PY" --version)"

# --- the hosts' logs -----------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"
gen() { # HOST WHAT: one host's log, a world of its own seed
  python3 "$GEN" -o "$WORK/$1" --seed "spark-$1" --what "$2" --log-messages 2000 \
    --domains 2000 --ips 4000 >"$WORK/$1.gen.out" 2>&1 || { cat "$WORK/$1.gen.out" >&2; fail "gen.py $1"; }
}
gen mx1 postfix; gen mx2 postfix; gen mx3 sendmail; gen mx4 exim
# The site's perimeter: every host's border relays, given to every scan alike.
perimeter=()
while read -r line; do perimeter+=(--perimeter "$line"); done < <(
  cat "$WORK"/mx*/perimeter.txt | grep -v '^#' | grep . | sort -u)

# mx1's log rotated at a line where a queue id is open: its `client=` line is in maillog.1,
# its `from=` line in maillog. CUT is that line's number (the last line of maillog.1).
CUT=$(python3 - "$WORK/mx1/maillog" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
qid = re.compile(r"postfix/[\w/-]+\[\d+\]: ([0-9A-F]{6,}): (client|from)=")
client, cuts = {}, []
for i, line in enumerate(lines):
    m = qid.search(line)
    if m and m.group(2) == "client":
        client[m.group(1)] = i
    elif m and m.group(1) in client and i > client[m.group(1)] + 1:
        cuts.append(client[m.group(1)] + 1)  # cut after the client= line, before from=
mid = len(lines) // 2
print(min(cuts, key=lambda c: abs(c - mid)) if cuts else 0)
PY
)
[ "$CUT" -gt 0 ] || fail "no queue id of mx1 has lines between its client= and from= to cut"
head -n "$CUT" "$WORK/mx1/maillog" > "$WORK/mx1/maillog.1"
tail -n "+$((CUT + 1))" "$WORK/mx1/maillog" > "$WORK/mx1/maillog.0"
mv "$WORK/mx1/maillog.0" "$WORK/mx1/maillog"
HOSTS=(mx1="$WORK/mx1/maillog.1,$WORK/mx1/maillog" mx2="$WORK/mx2/maillog"
       mx3="$WORK/mx3/sendmail.log" mx4="$WORK/mx4/exim_mainlog")
log "4 hosts, $(cat "$WORK"/mx1/maillog.1 "$WORK"/mx1/maillog "$WORK"/mx2/maillog \
  "$WORK"/mx3/sendmail.log "$WORK"/mx4/exim_mainlog | wc -l) log lines; mx1 rotated after line $CUT"

# --- the reference: one scan over every log ---------------------------------------------------
"$BIN" scan -q "${perimeter[@]}" "$WORK/mx1/maillog.1" "$WORK/mx1/maillog" "$WORK/mx2/maillog" \
  "$WORK/mx3/sendmail.log" "$WORK/mx4/exim_mainlog" -o "$WORK/one-scan.csv"
messages() { awk -F, 'NR > 1 { n += $3 } END { print n + 0 }' "$1"; }
[ "$(messages "$WORK/one-scan.csv")" -gt 1000 ] || fail "the reference scan found too few messages"

# --- Spark, local[2], loopback only ------------------------------------------------------------
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$PWD/$PY
scan_args=()
for p in "${perimeter[@]}"; do
  [ "$p" = --perimeter ] || scan_args+=("--scan-arg=--perimeter=$p")
done
recipe() { # OUT [EXTRA...]
  local out=$1; shift
  "$PY" scripts/spark_recipe.py --master 'local[2]' --repudiate "$BIN" --out "$out" \
    "${scan_args[@]}" "$@" "${HOSTS[@]}" >"$out.log" 2>&1 || { cat "$out.log" >&2; fail "spark job failed"; }
}
started=$SECONDS
recipe "$WORK/by-host"
cmp "$WORK/by-host/merged.csv" "$WORK/one-scan.csv" ||
  fail "partitioned by host, the merged pairs differ from one scan ($WORK/by-host/merged.csv)"
parts=$(ls "$WORK/by-host/pairs" | grep -c '^part-')
[ "$parts" -eq 4 ] || fail "$parts pairs files for 4 hosts"
log "by host: 4 partitions, $(($(wc -l < "$WORK/one-scan.csv") - 1)) pairs, $(messages "$WORK/one-scan.csv") messages: byte-identical to one scan ($((SECONDS - started)) s)"

started=$SECONDS
recipe "$WORK/by-offset" --split-host-at "$CUT"
if cmp -s "$WORK/by-offset/merged.csv" "$WORK/one-scan.csv"; then
  fail "mx1 cut inside a queue id's record still gave one scan's result: the check proves nothing"
fi
lost=$(( $(messages "$WORK/one-scan.csv") - $(messages "$WORK/by-offset/merged.csv") ))
[ "$lost" -gt 0 ] || fail "mx1 cut in two partitions: the merge differs but did not lose messages"
log "mx1 cut into 2 partitions mid-record: $lost message(s) lost, as docs/scale.md says ($((SECONDS - started)) s)"
log "PASS"
