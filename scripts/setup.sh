#!/usr/bin/env bash
# One idempotent set-up for `npm start`, `npm test` and CI: Debian packages, npm
# dependencies, the TypeScript build. Quick when nothing is missing; sudo only when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

# Recognition (PocketSphinx + its US English model; its command-line tools are the plain
# engine the recognition benchmarks compare with), pronunciations (espeak-ng),
# test and benchmark audio (sox, flite), SIP test peers (sipp, from sip-tester), model
# archives (unzip; zip for the tests), PostgreSQL and Kamailio (the two-node cluster test),
# Chromium and a font (the store console's browser tests).
PACKAGES=(libpocketsphinx3 pocketsphinx-en-us pocketsphinx espeak-ng sox libsox-fmt-base flite sip-tester unzip zip openssl postgresql-15 kamailio chromium fonts-dejavu-core baresip-core)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: install when absent or when package-lock.json changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (native modules build from source, about a minute)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build (incremental: a second or two when nothing changed).
npx --no-install tsc -p tsconfig.json
