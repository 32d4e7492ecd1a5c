#!/usr/bin/env bash
# Stroke-order test data for benchmarks/handwriting.py: Make Me a Hanzi's stroke medians
# (pen paths, in the order strokes are written) as packaged by the npm package
# hanzi-writer-data (Arphic Public License; used for measuring only, not shipped).
# Installed outside the repository, in ~/.cache/village-kiosk; needs npm.
set -euo pipefail
PREFIX="${HOME}/.cache/village-kiosk"
if [ -f "$PREFIX/node_modules/hanzi-writer-data/package.json" ]; then
  echo "stroke data present: $PREFIX/node_modules/hanzi-writer-data"; exit 0
fi
mkdir -p "$PREFIX"
npm install --no-save --no-audit --no-fund --prefix "$PREFIX" hanzi-writer-data@2.0.1
echo "stroke data installed: $PREFIX/node_modules/hanzi-writer-data"
