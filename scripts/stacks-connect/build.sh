#!/usr/bin/env bash
# Build projects/static/vendor/stacks-connect.js, the one browser file of @stacks/connect that the
# dispute review panel (templates/admin/projects/dispute/) loads from our own static files (no CDN).
# Versions are pinned in package.json / package-lock.json; run this again after changing them and
# commit the output.
#
# It exposes window.StacksConnect = {request, getStacksProvider, isStacksWalletInstalled, Cl}.
# WalletConnect (@reown/*) is left out: connect loads it only when given a WalletConnect project
# id, which the panel never does, and it would add 1 MB. Browser wallets (Leather, Xverse, any
# window.StacksProvider) work as usual.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
node node_modules/esbuild/install.js >/dev/null 2>&1 || true  # esbuild's platform binary check
out=../../projects/static/vendor/stacks-connect.js
mkdir -p "$(dirname "$out")"
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=StacksConnect \
  --platform=browser --target=es2020 --legal-comments=eof --external:@reown/* \
  --banner:js="/* @stacks/connect $(node -p 'require("@stacks/connect/package.json").version') for STXWorx; built by scripts/stacks-connect/build.sh */" \
  --outfile="$out"
echo "built $out ($(wc -c <"$out") bytes)"
