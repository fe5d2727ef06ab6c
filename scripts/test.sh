#!/usr/bin/env bash
# Every check and test of sqsfast, from a fresh clone with nothing installed by hand:
#   bash scripts/test.sh
# Installs what it needs into a virtual environment (.venv), builds the extension as `pip install .`
# does, and runs: cargo fmt, clippy, the Rust tests (unit, model-based, loom), ruff, and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${SQSFAST_VENV:-$root/.venv}
step() { printf '\n==> %s\n' "$*"; }

step "virtual environment ($venv)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
export PYO3_PYTHON="$venv/bin/python"

step "cargo fmt"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests"
cargo test -p sqsfast-core --locked
# The server's unit tests (SQS error mapping, wire encodings); its integration tests live in rust/server/tests.
cargo test -p sqsfast-server --lib --locked
# The gRPC front end against an in-process server on port 0.
cargo test -p sqsfast-server --test grpc --locked
# The load generator of `sqsfast bench`: body encoding, histograms and report, target URLs.
cargo test -p sqsfast-bench --lib --locked

step "loom models"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p sqsfast-core --test loom --release --locked

step "pip install .[test] (release build of the extension)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check ".[test]"

step "ruff"
"$venv/bin/ruff" check python tests benches
"$venv/bin/ruff" format --check python tests benches

step "pytest"
# Run from outside the source tree so that the installed package is the one tested.
cd "$root/tests" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests"
