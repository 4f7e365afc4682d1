#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time (SECONDS_EACH, default 30 s, so the ten
# or so targets take about five minutes after the build), seeded from fixtures/ by
# scripts/fuzz_seeds.py. Any crash, panic, timeout (one input over 10 s), leak or memory
# blow-up (over 2 GB) fails the run and names the input libFuzzer saved; docs/fuzzing.md
# says how to turn it into a regression fixture and how to run a longer campaign.
#
# Needs the nightly toolchain and cargo-fuzz: both are installed here when missing.
#
# Usage: scripts/fuzz.sh [SECONDS_EACH] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "installing the nightly toolchain (cargo-fuzz needs -Z sanitizer flags)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
command -v python3 >/dev/null || { echo "python3 is required by scripts/fuzz_seeds.py" >&2; exit 1; }

python3 scripts/fuzz_seeds.py fuzz/corpus
cd fuzz
# The fuzz crate's lock file is committed like the product's: a stale one is an error here,
# not a silent re-resolution of its dependencies.
cargo +nightly metadata --locked --format-version 1 >/dev/null ||
  { echo "fuzz/Cargo.lock is stale: run 'cargo +nightly metadata' in fuzz/ and commit it" >&2; exit 1; }
cargo +nightly fuzz build -O
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }

logs=$(mktemp -d)
failed=()
for target in "${targets[@]}"; do
  echo "==> fuzz $target for ${seconds}s"
  # New inputs go to corpus/ (ignored by git); crashes to artifacts/$target/.
  if cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$logs/$target" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added):' "$logs/$target" || true
  else
    tail -n 60 "$logs/$target"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]} (inputs under fuzz/artifacts/; see docs/fuzzing.md)" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no failure"
