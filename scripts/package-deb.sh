#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (the binary, man pages, bash/zsh/fish completions,
# the example config and the systemd timer + service), checks the pieces with the tools that
# read them (zsh -n, fish -n, systemd-analyze verify, man), installs it with dpkg -i, runs the
# installed binary once on the demo and compares its CSV with the expected one, then removes
# the package. Installs what it needs; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
need_apt=()
for pkg_cmd in zsh:zsh fish:fish man:man-db systemd-analyze:systemd dpkg-deb:dpkg; do
  command -v "${pkg_cmd%%:*}" >/dev/null || need_apt+=("${pkg_cmd#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION"
fi

cargo build --locked --release --quiet
bin=target/release/repudiate
out=target/package
rm -rf "$out"; mkdir -p "$out/man" "$out/completions"
"$bin" generate man "$out/man"
"$bin" generate complete bash >"$out/completions/repudiate.bash"
"$bin" generate complete zsh >"$out/completions/_repudiate"
"$bin" generate complete fish >"$out/completions/repudiate.fish"

bash -n "$out/completions/repudiate.bash"
zsh -n "$out/completions/_repudiate"
fish --no-execute "$out/completions/repudiate.fish"
for page in "$out"/man/*.1; do
  # man's own formatter; warnings about the page are errors here.
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || { echo "man page $page: $warnings" >&2; exit 1; }
done

deb=$(cargo deb --locked --no-build --no-strip --quiet 2>&1 | tail -1)
[ -f "$deb" ] || { echo "cargo deb made no package: $deb" >&2; exit 1; }
echo "package: $deb"
dpkg-deb --contents "$deb" | awk '{print $6}'

cleanup() { dpkg --purge repudiate >/dev/null 2>&1 || true; }
trap cleanup EXIT
dpkg -i "$deb" >/dev/null

unit_dir=/usr/lib/systemd/system
systemd-analyze verify "$unit_dir/repudiate-audit.service" "$unit_dir/repudiate-audit.timer"
man -w repudiate-audit >/dev/null
[ -f /usr/share/bash-completion/completions/repudiate ]
[ -f /etc/repudiate/repudiate.toml ]
# Every document the installed README links to is installed beside it.
grep -o '](docs/[^)#]*' README.md | sed 's/^](//' | sort -u | while read -r doc; do
  [ -f "/usr/share/doc/repudiate/$doc" ] || { echo "package-deb: README links $doc, not installed" >&2; exit 1; }
done
/usr/bin/repudiate --version

# The installed binary, once, on the shipped demo (offline: the policies come from a zone).
actual=$(mktemp)
(cd fixtures/demo && /usr/bin/repudiate $(cat cmd) >"$actual")
diff -u fixtures/demo/expected.csv "$actual"
rm -f "$actual"
echo "package-deb: built, verified, installed, ran the demo, removed"
