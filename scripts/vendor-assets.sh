#!/usr/bin/env bash
# The front-end files Rapport serves itself, installed exactly as package-lock.json pins them
# (versions and integrity hashes) and copied unchanged into the sales app's static files.
#   bash scripts/vendor-assets.sh          refresh the copies
#   bash scripts/vendor-assets.sh --check  exit 1 when a copy differs from the locked package
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp package.json package-lock.json "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --silent)
vendor=src/rapport/sales/static/sales/vendor
pairs=(
  "plotly.js-dist-min/plotly.min.js:$vendor/plotly.min.js"
  "plotly.js-dist-min/LICENSE:$vendor/plotly.LICENSE.txt"
  "sortablejs/Sortable.min.js:$vendor/sortablejs/Sortable.min.js"
  "sortablejs/LICENSE:$vendor/sortablejs/LICENSE"
)
status=0
for pair in "${pairs[@]}"; do
  from="$work/node_modules/${pair%%:*}" to="${pair#*:}"
  if [ "${1:-}" = "--check" ]; then
    cmp -s "$from" "$to" || { echo "differs from the locked package: $to"; status=1; }
  else
    cp "$from" "$to"
  fi
done
[ "${1:-}" = "--check" ] && [ "$status" -eq 0 ] && echo "vendored files match package-lock.json"
exit "$status"
