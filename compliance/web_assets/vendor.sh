#!/bin/sh
# Refetch the third-party browser files the page, the API docs and the audit report use,
# from the npm registry, into vendor/. Change a version here and in README.md together.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION: unpack the package tarball into $work/NAME
    mkdir -p "$work/$1"
    (cd "$work" && npm pack --silent "$1@$2" > /dev/null)
    tar xzf "$work/$(echo "$1" | tr -d @ | tr / -)-$2.tgz" -C "$work/$1" --strip-components=1
}

fetch leaflet 1.9.4
fetch topojson-client 3.1.0
fetch world-atlas 2.0.2
fetch swagger-ui-dist 5.35.0
fetch redoc 2.5.4

rm -rf "$out"
mkdir -p "$out/leaflet/images" "$out/topojson-client" "$out/world-atlas" "$out/swagger-ui" "$out/redoc"
cp "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" "$work/leaflet/LICENSE" "$out/leaflet/"
cp "$work/leaflet/dist/images/"*.png "$out/leaflet/images/"
cp "$work/topojson-client/dist/topojson-client.min.js" "$work/topojson-client/LICENSE" "$out/topojson-client/"
cp "$work/world-atlas/countries-50m.json" "$work/world-atlas/LICENSE" "$out/world-atlas/"
cp "$work/swagger-ui-dist/swagger-ui-bundle.js" "$work/swagger-ui-dist/swagger-ui.css" \
   "$work/swagger-ui-dist/LICENSE" "$work/swagger-ui-dist/NOTICE" \
   "$work/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt" "$out/swagger-ui/"
cp "$work/redoc/bundles/redoc.standalone.js" "$work/redoc/bundles/redoc.standalone.js.LICENSE.txt" \
   "$work/redoc/LICENSE" "$out/redoc/"
# Source map comments point at files that are not shipped; browsers would ask for them.
sed -i '/^\/\/# sourceMappingURL=/d' "$out/leaflet/leaflet.js" "$out/swagger-ui/swagger-ui-bundle.js" \
    "$out/redoc/redoc.standalone.js"
sed -i 's|/\*# sourceMappingURL=.*\*/||' "$out/swagger-ui/swagger-ui.css"
# ReDoc's sidebar credit loads its logo from the vendor's CDN, unconditionally: on a
# machine without internet that is a failed request, and on one with it a call out. An
# empty inline image stands in for it.
sed -i 's|https://cdn.redoc.ly/redoc/logo-mini.svg|data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E|' \
    "$out/redoc/redoc.standalone.js"
grep -q 'cdn.redoc.ly' "$out/redoc/redoc.standalone.js" && { echo "redoc still names its CDN" >&2; exit 1; }
du -sh "$out"
