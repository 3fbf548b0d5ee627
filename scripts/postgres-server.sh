#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's `postgresql` package (no Docker), for the tests
# and the benchmarks: a new cluster in a temporary folder, loopback only, trust authentication.
#   scripts/postgres-server.sh start [--fast]   prints "READY <url> <folder>" once it accepts connections
#   scripts/postgres-server.sh stop FOLDER      stops it and removes the folder
# --fast turns fsync off (tests: nothing there must survive a power loss); benchmarks keep it on.
# As root (CI), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)

case "${1:-}" in
start)
    options="-c listen_addresses=127.0.0.1 -c max_connections=200"
    [ "${2:-}" = "--fast" ] && options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    folder=$(mktemp -d /tmp/helpdesk-postgres.XXXXXX)
    chmod 755 "$folder"
    [ "$(id -u)" -eq 0 ] && chown postgres "$folder"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bin/initdb" -D "$folder/data" -U helpdesk --auth=trust -E UTF8 --no-sync >"$folder/initdb.log" 2>&1 \
        || { cat "$folder/initdb.log" >&2; exit 1; }
    "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
        -o "-p $port -k $folder $options" start >/dev/null 2>"$folder/pg_ctl.log" \
        || { cat "$folder/pg_ctl.log" "$folder/server.log" >&2; exit 1; }
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U helpdesk helpdesk
    echo "READY postgres://helpdesk@127.0.0.1:$port/helpdesk?sslmode=disable $folder"
    ;;
stop)
    folder=${2:?usage: $0 stop FOLDER}
    case "$folder" in /tmp/helpdesk-postgres.*) ;; *) echo "not a folder this script made: $folder" >&2; exit 1 ;; esac
    "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$folder"
    ;;
*)
    echo "usage: $0 start [--fast] | stop FOLDER" >&2
    exit 2
    ;;
esac
