#!/usr/bin/env bash
# Real-MTA end-to-end test: real postfix (and exim) receive a planned set of messages over
# SMTP inside a private network namespace, write their logs and mboxes, and `repudiate scan`
# must extract exactly the (sender domain, client IP) pairs and counts the plan implies.
# The plan, the sender and the expectations live in scripts/mta-e2e.py; this script installs
# the MTAs, runs private instances of them (never the system's) and stops them by PID.
#
# usage: scripts/mta-e2e.sh            (as root; CI runs it from .ci/run)
# env:   REPUDIATE=path/to/binary      (default: target/release/repudiate, built if missing)
#        MTA_E2E_KEEP=1                (keep the temporary directory for inspection)
set -euo pipefail
SELF=$(realpath "$0")
HERE=$(dirname "$SELF")
cd "$(dirname "$SELF")/.."

die() { echo "mta-e2e: $*" >&2; exit 1; }

# Ports on 127.0.0.1 inside the namespace: nothing else can see them.
MAIN_PORT=2525
PERIMETER_PORT=2526
EXIM_PORT=2527
# The perimeter relay's own address: bound on `lo` inside the namespace, the source address
# of every message the perimeter instance hands to the main instance.
PERIMETER_ADDR=198.51.100.25

# ---------------------------------------------------------------- inside the namespace

# Writes one postfix instance's main.cf and master.cf under $1 (its root directory).
# $2 instance name, $3 listen port, $4 extra main.cf lines.
postfix_instance_config() {
  local root=$1 name=$2 port=$3 extra=$4
  mkdir -p "$root/etc" "$root/spool" "$root/data"
  chown postfix "$root/data"
  cat >"$root/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $root/etc
queue_directory = $root/spool
data_directory = $root/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $name
maillog_file = $root/maillog
maillog_file_prefixes = $root
inet_interfaces = 127.0.0.1
inet_protocols = all
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = yes
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
$extra
EOF
  # Every service unchrooted (the queue lives in a temporary directory) and the log goes
  # through postlogd to maillog_file.
  cat >"$root/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# Writes the exim configuration under $1: a daemon on 127.0.0.1 and ::1 port $EXIM_PORT,
# the mainlog in $1/log/mainlog, local parts inbox and archive appended to mbox files in $1/mail,
# and a PLAIN authenticator so that an authenticated submission can be planned.
exim_config() {
  local root=$1 binary=$2
  mkdir -p "$root/spool" "$root/log" "$root/mail"
  chown Debian-exim:Debian-exim "$root/spool" "$root/log" "$root/mail"
  cat >"$root/exim.conf" <<EOF
primary_hostname = exim.site.example
# The binary is unpacked under the work directory, not at its compiled-in path.
exim_path = $binary
qualify_domain = site.example
domainlist local_domains = site.example
spool_directory = $root/spool
log_file_path = $root/log/%slog
tls_advertise_hosts =
pid_file_path = $root/exim.pid
daemon_smtp_ports = $EXIM_PORT
local_interfaces = <; 127.0.0.1 ; ::1
log_selector = +incoming_port
keep_environment =
# No reverse DNS in the namespace: arrivals are logged as H=(helo) [ip]:port.
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = check_rcpt
trusted_users = root
# With -C, exim's re-executions (delivery after reception) run as the exim user, never as
# root, so deliveries are made as that user too.
deliver_drop_privilege = true

begin acl
check_rcpt:
  accept domains = +local_domains
         local_parts = inbox : archive
  deny   message = unknown user

begin routers
mailbox:
  driver = accept
  domains = +local_domains
  local_parts = inbox : archive
  transport = mbox_file

begin transports
mbox_file:
  driver = appendfile
  file = $root/mail/\$local_part_data
  user = Debian-exim
  group = Debian-exim
  mode = 0600
  return_path_add
  envelope_to_add
  delivery_date_add

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if eq{\$auth3}{secret}}
  server_set_id = \$auth2
EOF
}

postfix_master_pid() { tr -d ' \n' <"$1/spool/pid/master.pid" 2>/dev/null || true; }

# Stops a process by PID: TERM, then KILL if it is still there after 10 s.
stop_pid() {
  local pid=$1 what=$2 _
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "mta-e2e: $what ($pid) ignored TERM, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# exim's user is compiled in (Debian-exim) and looked up before the configuration is read;
# unless exim4-base created it, it exists only in this namespace's own /etc/passwd and
# /etc/group (bind mounts in a private mount namespace, invisible outside).
exim_user() {
  local work=$1 id=64990 f
  getent passwd Debian-exim >/dev/null && return 0
  while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do id=$((id - 1)); done
  for f in passwd group; do cp "/etc/$f" "$work/etc-$f"; done
  echo "Debian-exim:x:$id:$id:mta-e2e:/nonexistent:/usr/sbin/nologin" >>"$work/etc-passwd"
  echo "Debian-exim:x:$id:" >>"$work/etc-group"
  for f in passwd group; do mount --bind "$work/etc-$f" "/etc/$f"; done
}

inside_namespace() {
  local work=$1 exim=$2
  local main=$work/postfix-main perimeter=$work/postfix-perimeter eximdir=$work/exim
  STARTED=()
  stop_all() {
    local entry
    for entry in "${STARTED[@]}"; do
      case "$entry" in
        postfix:*) stop_pid "$(postfix_master_pid "${entry#postfix:}")" "postfix master ${entry#postfix:}" ;;
        pid:*) stop_pid "${entry#pid:}" "exim daemon" ;;
      esac
    done
    STARTED=()
  }
  trap stop_all EXIT

  ip link set lo up
  [ -e /proc/net/if_inet6 ] || die "IPv6 is disabled in this kernel; the plan has IPv6 clients"
  ip addr add "$PERIMETER_ADDR/32" dev lo
  # exim's clients connect from their planned addresses for real: each is bound on lo.
  local addr
  for addr in $(python3 "$HERE/mta-e2e.py" addresses); do
    case "$addr" in
      *:*) ip addr add "$addr/128" dev lo nodad ;;
      *) ip addr add "$addr/32" dev lo ;;
    esac
  done
  exim_user "$work"

  mkdir -p "$work/mail"
  chown nobody:nogroup "$work/mail"
  postfix_instance_config "$main" postfix "$MAIN_PORT" "\
myhostname = mx.site.example
mydomain = site.example
enable_long_queue_ids = yes
virtual_mailbox_domains = site.example
virtual_mailbox_base = $work/mail
virtual_mailbox_maps = texthash:$main/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534"
  printf 'inbox@site.example inbox\narchive@site.example archive\n' >"$main/etc/vmailbox"
  postfix_instance_config "$perimeter" postfix-perimeter "$PERIMETER_PORT" "\
myhostname = perimeter.site.example
mydomain = site.example
relay_domains = site.example
relay_transport = relay:[127.0.0.1]:$MAIN_PORT
smtp_bind_address = $PERIMETER_ADDR"

  local inst
  for inst in "$main" "$perimeter"; do
    STARTED+=("postfix:$inst")
    postfix -c "$inst/etc" start || {
      tail -n 20 "$inst/maillog" >&2
      die "postfix ($inst) did not start"
    }
  done

  exim_config "$eximdir" "$exim"
  "$exim" -C "$eximdir/exim.conf" -bdf &
  STARTED+=("pid:$!")
  local _
  for _ in $(seq 100); do
    [ -s "$eximdir/exim.pid" ] && break
    sleep 0.1
  done
  [ -s "$eximdir/exim.pid" ] || die "exim did not start"

  python3 "$HERE/mta-e2e.py" send --postfix "$MAIN_PORT" --perimeter "$PERIMETER_PORT" \
    --exim "$EXIM_PORT" --exim-bin "$exim" --exim-conf "$eximdir/exim.conf"
  python3 "$HERE/mta-e2e.py" wait --work "$work" --exim-bin "$exim"
  stop_all
  trap - EXIT
}

if [ "${1:-}" = --inside-namespace ]; then
  inside_namespace "$2" "$3"
  exit 0
fi

# ---------------------------------------------------------------- on the host

[ "$(id -u)" = 0 ] || die "must run as root (private MTA instances, a network namespace)"
for cmd in python3 unshare mount apt-get; do
  command -v "$cmd" >/dev/null || die "missing prerequisite: $cmd"
done

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y \
    --no-install-recommends install "$@" >/dev/null
}
# Package lists may be missing on a fresh machine: update once when a package is unknown.
apt_known() {
  apt-cache show "$1" >/dev/null 2>&1 ||
    apt-get -o DPkg::Lock::Timeout=600 -q update >/dev/null
  apt-cache show "$1" >/dev/null 2>&1 || die "apt knows no package $1"
}

# iproute2 (priority important) is missing from minimal images; `ip` sets up the namespace.
if ! command -v ip >/dev/null; then
  apt_known iproute2
  apt_install iproute2
fi
command -v ip >/dev/null || die "iproute2 did not install"

if ! [ -x /usr/sbin/postfix ]; then
  # "No configuration": the package installs, the system instance is never set up or started.
  apt_known postfix
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt_install postfix
fi
[ -x /usr/sbin/postfix ] || die "postfix did not install"

# exim beside postfix: installing exim4 would remove postfix (both are the system's
# mail-transport-agent), so only the libraries exim links against are installed and the
# daemon package is unpacked into the temporary directory.
fetch_exim() {
  local dir=$1
  apt_known exim4-daemon-light
  # shellcheck disable=SC2046 # one word per library package
  apt_install $(apt-cache depends exim4-daemon-light | awk '$1 == "Depends:" && $2 ~ /^lib/ {print $2}')
  local out
  out=$(cd "$dir" && apt-get -q download exim4-daemon-light 2>&1) || {
    echo "$out" >&2
    die "apt-get download exim4-daemon-light failed"
  }
  dpkg -x "$dir"/exim4-daemon-light_*.deb "$dir/root"
  EXIM=$dir/root/usr/sbin/exim4
  [ -x "$EXIM" ] || die "no exim binary in exim4-daemon-light"
  if ldd "$EXIM" | grep -q 'not found'; then
    ldd "$EXIM" >&2
    die "exim's libraries are not all installed"
  fi
}

BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --locked --release --quiet
[ -x "$BIN" ] || die "no repudiate binary at $BIN"

WORK=$(mktemp -d /tmp/mta-e2e.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  if [ "${MTA_E2E_KEEP:-}" = 1 ]; then echo "mta-e2e: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir "$WORK/exim-package"
fetch_exim "$WORK/exim-package"

# A private network namespace (only lo, nothing leaves it) and a private mount namespace
# (for exim_user's /etc files).
unshare -m -n -- "$SELF" --inside-namespace "$WORK" "$EXIM"
python3 "$HERE/mta-e2e.py" check --bin "$BIN" --work "$WORK"
