#!/usr/bin/env bash
# Unpacks .device-bundle/simulate.tar.xz (scripts/device/bundle-simulate.sh) into DIR and
# prints the path of a wrapper that runs the bundled simulate with its own libraries.
set -euo pipefail
dir=${1:?name a folder to unpack into}
cd "$(dirname "$0")/../.."
[ -f .device-bundle/simulate.tar.xz ] || { echo "unbundle-simulate.sh: error: no .device-bundle/simulate.tar.xz; run scripts/device/bundle-simulate.sh and carry .device-bundle" >&2; exit 2; }
mkdir -p "$dir"
tar -C "$dir" -xJf .device-bundle/simulate.tar.xz
cat > "$dir/simulate" <<WRAP
#!/usr/bin/env bash
LD_LIBRARY_PATH="$dir/simulate-bundle/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dir/simulate-bundle/simulate" "\$@"
WRAP
chmod +x "$dir/simulate"
echo "$dir/simulate"
