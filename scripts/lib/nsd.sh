# Shared by the scripts that serve zones with Debian's nsd on loopback (nsd-interop.sh,
# spf-world-check.sh): installing nsd and dig, a free port, and one nsd of our own per call
# (own config, pid, log and zones under RUNDIR, rrl off, stopped by nsd_stop). Source it;
# set NSD_TAG (the name error messages start with) first.

# nsd_need_tools: nsd and dig, installed from Debian when missing (as root), or exit 1.
nsd_need_tools() {
  command -v nsd >/dev/null && command -v dig >/dev/null && return 0
  [ "$(id -u)" = 0 ] || { echo "$NSD_TAG: nsd and dig are missing and I am not root to install them" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq nsd dnsutils >/dev/null
  command -v nsd >/dev/null && command -v dig >/dev/null ||
    { echo "$NSD_TAG: nsd or dig still missing after apt-get" >&2; exit 1; }
}

# nsd_free_port FIRST LAST: a loopback port free for both UDP and TCP in FIRST..LAST.
nsd_free_port() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
first, last = int(sys.argv[1]), int(sys.argv[2])
for port in range(first, last + 1):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
             socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            u.bind(("127.0.0.1", port)); t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port); sys.exit(0)
sys.exit(f"no free port in 127.0.0.1:{first}-{last}")
PY
}

NSD_PID=""

# nsd_start NAME ZONEDIR RUNDIR PORT: serves every "origin file" line of ZONEDIR/zones.txt
# on 127.0.0.1:PORT; sets NSD_PID; waits until the first zone answers, else exits 1.
nsd_start() {
  local name=$1 zdir dir=$3 port=$4 first
  zdir=$(cd "$2" && pwd)
  mkdir -p "$dir"
  {
    printf 'server:\n  ip-address: 127.0.0.1@%s\n  port: %s\n  username: ""\n  chroot: ""\n' "$port" "$port"
    printf '  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n' "$zdir" "$dir" "$dir"
    printf '  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n  xfrdir: "%s"\n' "$dir" "$dir" "$dir"
    # rrl off: nsd's default of 200 answers/s per /24 would drop or truncate bulk answers.
    printf '  server-count: 1\n  verbosity: 1\n  hide-version: yes\n  refuse-any: yes\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'
    printf 'remote-control:\n  control-enable: no\n'
    while read -r origin file; do
      printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$origin" "$file"
    done < "$zdir/zones.txt"
  } > "$dir/nsd.conf"
  nsd-checkconf "$dir/nsd.conf"
  nsd -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
  NSD_PID=$!
  first=$(awk 'NR==1 {print $1}' "$zdir/zones.txt")
  for _ in $(seq 100); do
    if ! kill -0 "$NSD_PID" 2>/dev/null; then
      cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null || true
      echo "$NSD_TAG: nsd ($name) exited at start" >&2; NSD_PID=""; exit 1
    fi
    if [ "$(dig -p "$port" @127.0.0.1 +short +time=1 +tries=1 "$first" SOA 2>/dev/null)" != "" ]; then
      echo "nsd ($name) pid $NSD_PID on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "$NSD_TAG: nsd ($name) did not answer on 127.0.0.1:$port" >&2; exit 1
}

# nsd_stop: stops the nsd nsd_start started, if any.
nsd_stop() {
  if [ -n "$NSD_PID" ]; then
    kill "$NSD_PID" 2>/dev/null || true
    wait "$NSD_PID" 2>/dev/null || true
    NSD_PID=""
  fi
}
