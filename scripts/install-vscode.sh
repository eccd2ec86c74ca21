#!/usr/bin/env bash
# Installs a real VS Code (code-server) plus playwright-core into <repo>/.vscode-test/, and Debian's
# chromium, for the end-to-end harness. Idempotent: a complete install is recorded in a stamp file
# and skipped on the next run; anything short of that is redone.
#
# Why this recipe and not `npm install code-server`: its postinstall refuses root, downloads ripgrep
# from GitHub and builds kerberos against libkrb5-dev. This recipe needs nothing but the npm registry
# and Debian's packages, so it also works on machines without general internet access.
set -Eeuo pipefail  # -E: the ERR trap also fires inside functions

CODE_SERVER_VERSION=4.100.3
# Checked: it launches Debian bookworm's chromium (150) headless and drives code-server 4.100.3.
PLAYWRIGHT_CORE_VERSION=1.65.1
# Bump when the steps below change, so existing installs are redone.
RECIPE=1

# --editor-only: code-server alone (for the demo, opened in your own browser); no Debian packages.
EDITOR_ONLY=0
[[ "${1:-}" == "--editor-only" ]] && EDITOR_ONLY=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.vscode-test"
STAMP="$DEST/.install-complete"
LOG="$DEST/install.log"
CS="$DEST/node_modules/code-server"
VSC="$CS/lib/vscode"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
WANT_STAMP="code-server=$CODE_SERVER_VERSION playwright-core=$PLAYWRIGHT_CORE_VERSION node=$NODE_MAJOR recipe=$RECIPE"

STEP="start"
START_SECONDS=$SECONDS
say() { printf 'install-vscode: %s\n' "$*"; }
step() { STEP="$*"; say "$* ..."; }
on_error() {
  local rc=$?
  printf '\ninstall-vscode: FAILED (exit %s) during: %s\n' "$rc" "$STEP" >&2
  if [[ -s "$LOG" ]]; then
    printf 'install-vscode: last lines of %s:\n' "$LOG" >&2
    tail -n 30 "$LOG" >&2 || true
  fi
  exit "$rc"
}
trap on_error ERR
die() { printf '\ninstall-vscode: FAILED during: %s\n' "$*" >&2; exit 1; }

# Runs a command with its output in the log, so progress stays short but failures show their cause.
run() { printf '\n$ (%s) %s\n' "$PWD" "$*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }

complete_install() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" ]] &&
    { [[ "$EDITOR_ONLY" == 1 ]] || [[ -x /usr/bin/chromium ]]; } &&
    [[ -f "$CS/out/node/entry.js" ]] &&
    [[ -d "$DEST/node_modules/playwright-core" ]] &&
    [[ -e "$VSC/node_modules.asar" ]]
}

[[ "$NODE_MAJOR" == 20 ]] || die "checking Node: code-server $CODE_SERVER_VERSION needs Node 20, found $(node --version)"

if complete_install; then
  say "already installed in $DEST ($WANT_STAMP)"
  exit 0
fi

mkdir -p "$DEST"
rm -f "$STAMP"
: >"$LOG"
say "installing into $DEST (log: $LOG)"

# --- Debian packages ------------------------------------------------------------------------------
step "checking Debian packages (chromium, ripgrep)"
missing=()
if [[ "$EDITOR_ONLY" == 0 ]]; then
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
if ((${#missing[@]})); then
  [[ "$(id -u)" == 0 ]] || die "apt-get install ${missing[*]}: needs root"
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${missing[*]} " == *" chromium "* ]] || ! apt-get install -y -q "${missing[@]}" >>"$LOG" 2>&1; then
    step "apt-get update"
    run apt-get update -q
  fi
  step "apt-get install ${missing[*]}"
  run apt-get install -y -q "${missing[@]}"
fi
[[ -x /usr/bin/chromium ]] || die "apt-get install chromium: no /usr/bin/chromium afterwards"
fi

# --- npm project ----------------------------------------------------------------------------------
# A half-finished tree (interrupted, or other versions) is thrown away rather than patched up.
step "clearing any previous npm install"
rm -rf "$DEST/node_modules" "$DEST/package-lock.json"
cat >"$DEST/package.json" <<EOF
{
  "name": "m365-status-vscode-test",
  "private": true,
  "description": "code-server and playwright-core for the end-to-end harness; written by scripts/install-vscode.sh",
  "dependencies": {
    "code-server": "$CODE_SERVER_VERSION",
    "playwright-core": "$PLAYWRIGHT_CORE_VERSION"
  }
}
EOF

cd "$DEST"
step "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION (--ignore-scripts)"
run npm install --ignore-scripts --no-audit --no-fund

step "npm rebuild argon2"
run npm rebuild argon2

cd "$VSC"
step "npm install --omit=dev --ignore-scripts in lib/vscode"
run npm install --omit=dev --ignore-scripts --no-audit --no-fund

# Native packages are the ones with install scripts; ripgrep's downloads from GitHub and kerberos needs
# libkrb5-dev, so both are left unbuilt (workspace search gets Debian's rg below instead).
step "finding native packages in lib/vscode"
native="$(node -e '
  const lock = require("./npm-shrinkwrap.json");
  const skip = new Set(["@vscode/ripgrep", "kerberos"]);
  const names = new Set();
  for (const [key, pkg] of Object.entries(lock.packages || {})) {
    if (!pkg.hasInstallScript || pkg.dev || !key) continue;
    const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
    if (!skip.has(name)) names.add(name);
  }
  console.log([...names].sort().join(" "));
')"
step "npm rebuild in lib/vscode: $native"
# node-pty's install script runs `npx node-gyp`, which would otherwise stop to ask.
# shellcheck disable=SC2086
npm_config_yes=true run npm rebuild $native

step "making the links code-server's postinstall.sh makes"
ln -sfn node_modules node_modules.asar
ln -sfn code-server-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh

step "npm install --omit=dev in lib/vscode/extensions"
cd "$VSC/extensions"
run npm install --omit=dev --no-audit --no-fund

step "linking Debian's ripgrep as @vscode/ripgrep/bin/rg"
if [[ -d "$VSC/node_modules/@vscode/ripgrep" ]] && command -v rg >/dev/null 2>&1; then
  mkdir -p "$VSC/node_modules/@vscode/ripgrep/bin"
  ln -sfn "$(command -v rg)" "$VSC/node_modules/@vscode/ripgrep/bin/rg"
else
  say "warning: no @vscode/ripgrep folder or no rg; workspace search will not work"
fi

step "checking the install"
cd "$DEST"
# code-server writes a config.yaml (with a password) and logs under ~ even for --version; keep them here.
rm -rf "$DEST/.check-home"
XDG_CONFIG_HOME="$DEST/.check-home/config" XDG_DATA_HOME="$DEST/.check-home/data" \
  run node "$CS/out/node/entry.js" --version
rm -rf "$DEST/.check-home"
run node -e 'require("playwright-core")'
[[ -e "$VSC/node_modules/node-pty/build/Release/pty.node" ]] ||
  die "npm rebuild in lib/vscode: node-pty was not built (no pty.node)"

printf '%s\n' "$WANT_STAMP" >"$STAMP"
say "done in $((SECONDS - START_SECONDS)) s; $(du -sh "$DEST/node_modules" | cut -f1) in $DEST/node_modules"
