#!/usr/bin/env bash
# Build the JavaScript libraries of the web interface from npm (pinned by api/web/package-lock.json)
# and copy only the minified files the pages load into api/web/static/vendor/ (committed, so the
# service never needs npm or a CDN at run time). Run again after changing api/web/package.json.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$repo/api/web"
vendor="$repo/api/web/static/vendor"

cd "$web"
# --ignore-scripts: the only install scripts print attributions (fontawesome) or report the
# install to an analytics service (@scarf/scarf, pulled in by swagger-ui-dist); nothing is built.
npm ci --no-audit --no-fund --ignore-scripts

mkdir -p "$vendor"
rm -f "$vendor"/*.js "$vendor"/*.css "$vendor"/*.LICENSE.txt
files=(
  "node_modules/cytoscape/dist/cytoscape.min.js"
  "node_modules/@zazuko/yasgui/build/yasgui.min.js"
  "node_modules/@zazuko/yasgui/build/yasgui.min.css"
  # Swagger UI of /docs (FastAPI's default page loads it from a CDN): the bundle, its licence
  # notices (the bundle's first comment points to them) and the stylesheet.
  "node_modules/swagger-ui-dist/swagger-ui-bundle.js"
  "node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt"
  "node_modules/swagger-ui-dist/swagger-ui.css"
)
for f in "${files[@]}"; do
  size=$(stat -c %s "$f")
  if (( size > 5 * 1024 * 1024 )); then
    echo "error: $f is $size bytes (limit 5 MB)" >&2
    exit 1
  fi
  cp "$f" "$vendor/"
done
# Source-map comments would make browsers request .map files we do not ship.
sed -i -e '/^\/\/# sourceMappingURL=/d' -e 's|//# sourceMappingURL=[^ ]*$||' "$vendor"/*.js
sed -i -e 's|/\*# sourceMappingURL=[^*]*\*/||' "$vendor"/*.css

{
  echo "Built by scripts/build_web_assets.sh from api/web/package-lock.json; do not edit."
  for pkg in cytoscape @zazuko/yasgui swagger-ui-dist; do
    node -p "const p=require('./node_modules/$pkg/package.json'); p.name+' '+p.version+' ('+p.license+')'"
  done
} > "$vendor/VERSIONS.txt"
ls -l "$vendor"
