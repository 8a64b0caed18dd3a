#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with Node.js:
#   1. installs redis-server, memcached and postgresql from Debian packages when missing
#      (the tests start their own processes on free loopback ports), and
#      openssl and sasl2-bin (saslpasswd2) for the TLS and login tests, and
#      python3-pylibmc (the foreign-values test drives a real pylibmc);
#   2. installs the npm dependencies and builds dist/;
#   3. type-checks, then runs every test tier;
#   4. ends with one line "N passed, N failed" from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)  # socket counters in the batching test
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # throwaway CA and server certificates for the TLS tests
{ command -v saslpasswd2 || test -x /usr/sbin/saslpasswd2; } >/dev/null 2>&1 || missing+=(sasl2-bin libsasl2-modules)  # memcached SASL users (and the PLAIN mechanism) for the login tests
# The product-service test's database; Debian keeps the binaries off the PATH, in /usr/lib/postgresql/<major>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
/usr/bin/python3 -c 'import pylibmc' >/dev/null 2>&1 || missing+=(python3-pylibmc)  # pylibmc on a shared pool (foreign-values test)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian packages"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"; } \
    || { echo "could not install ${missing[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi
# Debian starts the packaged daemons on their default ports; the tests use their own.

# --ignore-scripts: @keyv/test-suite depends on sqlite3, whose install script
# compiles it from source; the Keyv suites never load it. dist/ (which the
# `prepare` script would build) is built here instead.
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --ignore-scripts; else npm install --no-audit --no-fund --ignore-scripts; fi \
  && npm run build \
  || { echo "npm install failed"; echo "0 passed, 1 failed"; exit 1; }

npx tsc -p tsconfig.json --noEmit || { echo "type check failed"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p .tmp
report=.tmp/vitest-report.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
status=$?

node -e '
  const fs = require("node:fs");
  const [report, status] = [process.argv[1], Number(process.argv[2])];
  let passed = 0, failed = 0;
  try {
    const r = JSON.parse(fs.readFileSync(report, "utf8"));
    passed = r.numPassedTests;
    failed = r.numFailedTests;
    // A file that fails to load has no tests to count: count the file.
    if (status !== 0 && failed === 0) failed = Math.max(1, r.numFailedTestSuites);
  } catch {
    failed = 1;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$report" "$status"
exit $status
