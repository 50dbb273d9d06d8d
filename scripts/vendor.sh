#!/bin/sh
# Refreshes the front-end packages served or used from this repository, from the npm registry
# (`make vendor`; needs npm, or curl and tar). Pinned versions: change them here, run it, review
# the diff, commit. The app serves everything from /static: it works offline, no CDN.
#
#   bootstrap-italia -> app/static/vendor/bootstrap-italia (CSS, JS bundle, Titillium Web, sprites)
#   axe-core         -> tests/vendor/axe-core (injected into pages by the browser tests only)
set -eu

BOOTSTRAP_ITALIA_VERSION=2.18.3
AXE_CORE_VERSION=4.14.1

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # name version -> unpacked into $work/name
    mkdir -p "$work/$1"
    if command -v npm >/dev/null 2>&1; then
        (cd "$work" && npm pack --silent "$1@$2" >/dev/null)
    else
        curl -fsSL -o "$work/$1-$2.tgz" "https://registry.npmjs.org/$1/-/$1-$2.tgz"
    fi
    tar -xzf "$work/$1-$2.tgz" -C "$work/$1" --strip-components=1
}

fetch bootstrap-italia "$BOOTSTRAP_ITALIA_VERSION"
src="$work/bootstrap-italia/dist"
dest="$root/app/static/vendor/bootstrap-italia"
rm -rf "$dest"
mkdir -p "$dest/css" "$dest/js" "$dest/svg" "$dest/fonts/Titillium_Web"
# The source-map comment would make browsers ask for a file that is not shipped.
# The video player's icon font is a data: URL, which the Content-Security-Policy (font-src
# 'self') refuses; the app shows no video: the rule goes.
sed -e '/sourceMappingURL/d' -e 's/@font-face{font-family:VideoJS;[^}]*}//' \
    "$src/css/bootstrap-italia.min.css" > "$dest/css/bootstrap-italia.min.css"
sed '/sourceMappingURL/d' "$src/js/bootstrap-italia.bundle.min.js" > "$dest/js/bootstrap-italia.bundle.min.js"
cp "$src/svg/sprites.svg" "$dest/svg/"
# Modern browsers need only woff2 (woff as the fallback); the @font-face rules are in
# app/static/fonts.css (the package's loadFonts() would add an inline <style>, which the
# Content-Security-Policy forbids).
cp "$src"/fonts/Titillium_Web/*.woff2 "$src"/fonts/Titillium_Web/*.woff "$dest/fonts/Titillium_Web/"
cp "$src/fonts/Titillium_Web/OFL.txt" "$dest/fonts/Titillium_Web/"
cp "$work/bootstrap-italia/LICENSE" "$dest/LICENSE"

fetch axe-core "$AXE_CORE_VERSION"
axe="$root/tests/vendor/axe-core"
rm -rf "$axe"
mkdir -p "$axe"
cp "$work/axe-core/axe.min.js" "$work/axe-core/LICENSE" "$axe/"

cat > "$root/app/static/vendor/VENDORED.md" <<MD
# Vendored front-end packages

Refreshed by \`make vendor\` (scripts/vendor.sh) from the npm registry; do not edit by hand.

| package | version | licence | files |
|---|---|---|---|
| bootstrap-italia (Designers Italia) | $BOOTSTRAP_ITALIA_VERSION | BSD-3-Clause (\`bootstrap-italia/LICENSE\`) | \`bootstrap-italia/css/bootstrap-italia.min.css\`, \`bootstrap-italia/js/bootstrap-italia.bundle.min.js\`, \`bootstrap-italia/svg/sprites.svg\` |
| Titillium Web (in bootstrap-italia) | $BOOTSTRAP_ITALIA_VERSION | SIL Open Font License 1.1 (\`bootstrap-italia/fonts/Titillium_Web/OFL.txt\`) | \`bootstrap-italia/fonts/Titillium_Web/*.woff2\`, \`*.woff\` |
| mermaid | (unchanged, vendored earlier) | MIT | \`mermaid/mermaid.min.js\` |
| axe-core (tests only, in \`tests/vendor/axe-core\`) | $AXE_CORE_VERSION | MPL-2.0 (\`tests/vendor/axe-core/LICENSE\`) | \`axe.min.js\` |
MD
echo "vendored bootstrap-italia $BOOTSTRAP_ITALIA_VERSION and axe-core $AXE_CORE_VERSION"
