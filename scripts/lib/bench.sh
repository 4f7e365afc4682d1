# shellcheck shell=bash disable=SC2034 # (TOOLS, BIN and the stamp are set for the scripts that source this)
# Shared by the scripts that measure (bench.sh, bench-dates.sh, bench-domeval.sh,
# bench-merge.sh, scale-curve.sh): the tools they install, the binary they measure, where their
# workloads live, and the stamp a figure carries (command, date, commit, machine, load), so
# every figure in docs/figures/ says the same things the same way. Source it from the
# repository's root after setting BENCH_TAG (the name log lines start with); it sets REPO,
# GEN and TOOLS and defines log.

REPO=$PWD
GEN=${REPUDIATE_SHARED:-$REPO/../shared}/bench/gen.py
TOOLS=$REPO/scripts/bench_tools.py

log() { printf '%s: %s\n' "$BENCH_TAG" "$*" >&2; }

# bench_dir DEFAULT: BENCH_DIR from the environment, else DEFAULT (each script keeps its own
# default: the shared world cache or this tree's target/bench-cache).
bench_dir() { BENCH_DIR=${BENCH_DIR:-$1}; }

# bench_need CMD:PACKAGE...: installs from Debian the packages of the commands missing (apt-get
# as root, else through sudo; the package lists refreshed once if the first try fails), then
# exits 1 if any command is still missing: a missing tool is an error, never a skip.
bench_need() {
  local pkgs=() pair sudo=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || pkgs+=("${pair#*:}")
  done
  [ ${#pkgs[@]} -eq 0 ] && return 0
  log "installing ${pkgs[*]}"
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null ||
    { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
      "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null; }
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 ||
      { log "${pair%%:*} is still missing after installing ${pair#*:}"; exit 1; }
  done
}

# bench_need_gen: ../shared/bench/gen.py (REPUDIATE_SHARED) must exist.
bench_need_gen() {
  [ -f "$GEN" ] || { log "$GEN not found (set REPUDIATE_SHARED)"; exit 1; }
}

# bench_binary: BIN is $REPUDIATE when given, else this tree built --release --locked.
bench_binary() {
  if [ -n "${REPUDIATE:-}" ]; then
    BIN=$REPUDIATE
  else
    log "cargo build --release --locked"
    cargo build --release --locked --quiet
    BIN=$REPO/target/release/repudiate
  fi
}

# bench_world DIR GEN-ARGS...: runs gen.py -o DIR GEN-ARGS unless DIR holds a finished world
# (its .complete marker), so an interrupted generation is redone, never measured.
bench_world() {
  local dir=$1
  shift
  [ -f "$dir/.complete" ] && return 0
  log "generating $dir (gen.py $*)"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  python3 "$GEN" -o "$dir" "$@" >/dev/null
  touch "$dir/.complete"
}

# bench_commit: COMMIT, the commit measured, taken when called (after the build: commits made
# while the bench runs do not change the binary), marked when src/ differs from it or when
# the binary was given as REPUDIATE.
bench_commit() {
  COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$REPO" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null ||
    COMMIT="$COMMIT with uncommitted changes"
  if [ -n "${REPUDIATE:-}" ]; then COMMIT="$COMMIT (binary given as REPUDIATE=$REPUDIATE)"; fi
  return 0
}

# bench_stamp: WHEN, CPU, RAM and LOAD as they are now (call it at the end of the run: the
# load then covers the run).
bench_stamp() {
  WHEN=$(date -u '+%Y-%m-%d %H:%M UTC')
  CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  RAM=$(awk '/^MemTotal:/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
  LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
}

# bench_figure FILE COMMAND WORKLOADS REPORT: writes FILE (atomically) with the stamp every
# figure starts with — the command that wrote it, when, the commit (bench_commit), the
# machine and its load (bench_stamp), the workloads — then REPORT as a text block.
# scripts/readme-figures.py reads these lines.
bench_figure() {
  local file=$1 command=$2 workloads=$3 report=$4
  mkdir -p "$(dirname "$file")"
  {
    echo "Written by \`$command\` on $WHEN; rerun it to replace this file (wall times depend on the machine and its load, so no CI step compares them)."
    echo
    echo "* commit: $COMMIT; $(rustc --version 2>/dev/null || echo 'rustc unknown')"
    echo "* machine: $(nproc) cores ($CPU), $RAM RAM; load average at the end $LOAD"
    echo "* workloads: $workloads"
    echo
    echo '```text'
    echo "$report"
    echo '```'
  } > "$file.tmp"
  mv "$file.tmp" "$file"
  log "wrote $file"
}
