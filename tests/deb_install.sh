#!/usr/bin/env bash
# The Debian package as an operator installs it: build it from the debug binary
# (`cargo deb --profile dev --no-build`), `dpkg -i` it, run the systemd unit's ExecStart
# line as the `switchboard` user (systemd itself does not run here), check /healthz and that
# there are no demo users, create the first admin as the install message says, `dpkg -r`,
# and check that the data stays. Cleans up (purge, data, user) on exit.
#
# Needs root, dpkg and cargo-deb (.ci/run installs it); otherwise it is skipped loudly.
# It refuses to touch a machine where Switchboard is already installed or has data.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
    echo "*** SKIPPED tests/deb_install.sh: $* ***" >&2
    exit 0
}
fail() {
    echo "tests/deb_install.sh: FAILED: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
command -v dpkg >/dev/null || skip "no dpkg"
cargo deb --version >/dev/null 2>&1 || skip "no cargo-deb (cargo install cargo-deb --locked)"

# One run at a time on this machine (dpkg and the package's paths are shared).
exec 9>/tmp/switchboard-deb-test.lock
flock 9

if dpkg -s switchboard >/dev/null 2>&1 || [ -e /var/lib/switchboard ] || [ -e /etc/switchboard ]; then
    fail "switchboard is already installed or /var/lib/switchboard or /etc/switchboard exists; not touching them (dpkg --purge switchboard; rm -rf /var/lib/switchboard /etc/switchboard)"
fi
user_existed=no
if getent passwd switchboard >/dev/null; then user_existed=yes; fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    dpkg --purge switchboard >/dev/null 2>&1 || true
    rm -rf /var/lib/switchboard /etc/switchboard "$work"
    if [ "$user_existed" = no ] && getent passwd switchboard >/dev/null; then
        userdel switchboard 2>/dev/null || true
        groupdel switchboard 2>/dev/null || true
    fi
}
trap cleanup EXIT

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
[ -x "$target_dir/debug/switchboard" ] || cargo build --bin switchboard
started=$(date +%s)
cargo deb --profile dev --no-build --fast --no-strip --quiet -o "$work/" >"$work/cargo-deb.log" 2>&1 \
    || { cat "$work/cargo-deb.log" >&2; fail "cargo deb"; }
deb=$(ls "$work"/switchboard_*.deb)
echo "deb_install: built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(( $(date +%s) - started )) s"

# Install: the message says how to create the first admin.
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "dpkg -i"; }
grep -q "no users and no demo credentials" "$work/install.log" || fail "no first-admin message: $(cat "$work/install.log")"
grep -q "switchboard user add --config /etc/switchboard/switchboard.toml" "$work/install.log" \
    || fail "the install message does not show the user add command"
[ -x /usr/bin/switchboard ] || fail "/usr/bin/switchboard missing"
[ -f /lib/systemd/system/switchboard.service ] || fail "systemd unit missing"
grep -qx "/etc/switchboard/switchboard.toml" /var/lib/dpkg/info/switchboard.conffiles \
    || fail "the config is not a conffile"
getent passwd switchboard >/dev/null || fail "no switchboard user"
[ "$(stat -c %U /var/lib/switchboard)" = switchboard ] || fail "/var/lib/switchboard not owned by switchboard"
[ "$(stat -c %G:%a /etc/switchboard/switchboard.toml)" = "switchboard:640" ] \
    || fail "config should be root:switchboard 0640, is $(stat -c %U:%G:%a /etc/switchboard/switchboard.toml)"

# The unit's ExecStart line, as the unit's user. Only the listen address is overridden (a
# free port instead of 8080), through the environment as a drop-in would.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/switchboard.service)
unit_user=$(sed -n 's/^User=//p' /lib/systemd/system/switchboard.service)
[ "$unit_user" = switchboard ] || fail "the unit runs as '$unit_user'"
mkfifo "$work/out"
# shellcheck disable=SC2086 # ExecStart is a command line: split it as systemd would.
SWITCHBOARD_LISTEN=127.0.0.1:0 setpriv --reuid=switchboard --regid=switchboard --init-groups \
    $exec_start >"$work/out" 2>"$work/server.log" &
server_pid=$!
read -r -t 30 line <"$work/out" || fail "the server did not start: $(cat "$work/server.log")"
addr=${line#listening on http://}
[ "$addr" != "$line" ] || fail "unexpected first line: $line"
exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}"
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3
response=$(cat <&3)
exec 3<&-
case "$response" in
    "HTTP/1.0 200"* | "HTTP/1.1 200"*) ;;
    *) fail "/healthz: $response" ;;
esac
echo "deb_install: the unit's ExecStart serves /healthz on $addr as user switchboard"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not exit cleanly on SIGTERM"
server_pid=
[ -f /var/lib/switchboard/switchboard.db ] || fail "no database in /var/lib/switchboard"
[ "$(stat -c %U /var/lib/switchboard/switchboard.db)" = switchboard ] || fail "database not owned by switchboard"

# No demo credentials: no users until the operator creates one, as the message says.
users=$(setpriv --reuid=switchboard --regid=switchboard --init-groups \
    switchboard user list --config /etc/switchboard/switchboard.toml)
[ -z "$users" ] || fail "a fresh install has users: $users"
echo "first-admin-password" | setpriv --reuid=switchboard --regid=switchboard --init-groups \
    switchboard user add --config /etc/switchboard/switchboard.toml \
    --username admin --role admin --password-stdin >/dev/null
setpriv --reuid=switchboard --regid=switchboard --init-groups \
    switchboard user list --config /etc/switchboard/switchboard.toml | grep -q '^admin ' \
    || fail "the first admin was not created"

# Remove: the program goes, the data and the configuration stay.
dpkg -r switchboard >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "dpkg -r"; }
[ ! -e /usr/bin/switchboard ] || fail "/usr/bin/switchboard still there after dpkg -r"
[ -f /var/lib/switchboard/switchboard.db ] || fail "the data did not survive dpkg -r"
[ -f /etc/switchboard/switchboard.toml ] || fail "the conffile did not survive dpkg -r"
echo "deb_install: ok (installed, served, first admin created, removed with the data kept)"
