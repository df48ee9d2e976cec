#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the end-to-end tests
# that drive the real binary with the stock npm socket.io-client.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --bins --examples
cargo test --lib --bins --tests
# The Debian package: build, dpkg -i, run the unit's ExecStart, dpkg -r (root only).
bash tests/deb_install.sh

if [ -f tests/e2e/package.json ]; then
    (
        cd tests/e2e
        if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
            npm ci --no-audit --no-fund --loglevel=error
        fi
        SWITCHBOARD_BIN="$target_dir/debug/switchboard" \
        SIO_ECHO_BIN="$target_dir/debug/examples/sio_echo" \
            node --test --test-concurrency=1 ./*.test.mjs
    )
fi
