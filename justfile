# Usher's everyday commands. `just --list` shows them.

# Serve with the embedded defaults (SQLite, local storage, generated secret).
run *ARGS:
    cargo run -- {{ARGS}}

# Every Rust test, PostgreSQL included (needs the machine's initdb/postgres).
test *ARGS:
    cargo test --workspace {{ARGS}}

# Clippy with warnings as errors, rustfmt check, the dependency rule.
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo fmt --all -- --check
    .ci/check-dependency-rule

# The offline dependency audit against ../shared/advisory-db.
audit:
    rm -rf target/advisory-db && cp -r ../shared/advisory-db target/advisory-db
    cargo audit --db target/advisory-db --no-fetch --no-yanked --deny warnings

# Licences, bans and sources of every dependency (deny.toml).
deny:
    cargo deny --offline check licenses bans sources

# Exactly what CI runs.
ci:
    .ci/run

# The dashboard's browser tests: release binary, npm ci, Debian's Chromium (apt-get install chromium).
e2e:
    cargo build --release --bin usher
    cd tests/browser && npm ci --no-audit --no-fund && USHER_BIN=../../target/release/usher npm test

# Webhooks against an independent verifier: the standardwebhooks package (venv in target/) checks every delivery of the release binary.
webhooks:
    cargo build --release --bin usher
    USHER_BIN=target/release/usher tests/webhooks/run

# Generated bad input: the pinned schemathesis (venv in target/) against the release binary, every operation and every check but one, on SQLite and PostgreSQL, as a user and as a superuser.
schemathesis *ARGS:
    cargo build --release --bin usher
    USHER_BIN=target/release/usher tests/schemathesis/run {{ARGS}}

# The scale-out suite (tests/cluster): three release replicas behind Debian's HAProxy (apt-get install haproxy) on a throwaway PostgreSQL, faults injected under load. `just cluster up` starts the same cluster and keeps it running.
cluster MODE="suite":
    cargo build --release --bin usher
    USHER_BIN=target/release/usher cargo run --quiet -p cluster -- {{MODE}}

# Regenerates the typed TypeScript client's types (clients/typescript/schema.d.ts) from the OpenAPI document, type-checks it and runs its tests.
client:
    cargo run --quiet -- openapi > clients/typescript/openapi.json
    cd clients/typescript && npm ci --no-audit --no-fund && npm run generate && npm run check && npm test

# A token for local use: `just token ada@example.com`.
token EMAIL:
    cargo run --quiet -- token --email {{EMAIL}}

# The load benchmark (tests/load/README.md): throwaway PostgreSQL, release usher and its peers, wrk. Reports, never fails on a time.
bench:
    python3 tests/load/bench.py
