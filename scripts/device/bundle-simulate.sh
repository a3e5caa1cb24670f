#!/usr/bin/env bash
# Packs the release `simulate` with the shared libraries it loads (Swift's runtime and
# Foundation, libxml2, SQLite, ICU; not glibc) and its resource bundles into .device-bundle/simulate.tar.xz, for a
# device call to carry (`carry: [".device-bundle"]`): the GPU machines have no Swift
# toolchain. On the machine, scripts/device/unbundle-simulate.sh DIR unpacks it and
# prints the path of a `simulate` that finds its libraries.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product simulate >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/simulate-bundle/lib"
cp .build/release/simulate "$work/simulate-bundle/"
cp -r .build/release/*.resources "$work/simulate-bundle/"  # the topologies' schemas, beside the binary
ldd .build/release/simulate | awk '/=> \//{print $3}' \
  | grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' \
  | xargs -I{} cp -L {} "$work/simulate-bundle/lib/"
strip "$work/simulate-bundle/simulate" "$work"/simulate-bundle/lib/*.so* 2>/dev/null || true
mkdir -p .device-bundle
tar -C "$work" -cJf .device-bundle/simulate.tar.xz simulate-bundle
ls -la .device-bundle/simulate.tar.xz
