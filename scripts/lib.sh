# Shared helpers for the project's scripts. Source it; do not run it.

# Installs the Debian packages the project needs when any is missing, and any named as
# arguments (the tests add the browser: chromium and chromium-driver).
ensure_system_packages() {
    local missing=()
    for package in librdkafka-dev libcurl4-openssl-dev libsqlite3-dev postgresql kcat pkg-config docker-compose curl openssl python3-aiosmtpd "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    command -v swift >/dev/null || { echo "swift 6 is required on PATH (https://swift.org/install)" >&2; exit 1; }
}

# Builds the `helpdesk` CLI in release mode (its log on stderr) and prints the binary's path.
release_helpdesk() {
    swift build -c release --product helpdesk >&2
    echo "$(swift build -c release --show-bin-path)/helpdesk"
}

# Starts `helpdesk broker` in the background; sets BROKER_PID and BOOTSTRAP. It runs in its
# own session so a Ctrl-C reaches the services first and the broker outlives their shutdown;
# stop_broker ends it.
start_broker() {
    local binary=$1; shift
    local file
    file=$(mktemp)
    rm -f "$file"
    setsid "$binary" broker --bootstrap-file "$file" "$@" >/dev/null 2>"${BROKER_LOG:-/dev/null}" </dev/null &
    BROKER_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$file" ] && break
        sleep 0.1
    done
    [ -s "$file" ] || { echo "the broker did not start" >&2; exit 1; }
    BOOTSTRAP=$(cat "$file")
    rm -f "$file"
}

stop_broker() {
    [ -n "${BROKER_PID:-}" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    BROKER_PID=""
}
