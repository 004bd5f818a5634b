#!/usr/bin/env bash
# bundle: a relocatable P2C2R folder for a host with no package manager (a GPU box, a
# minimal image): the peer, the coordinator, the `p2c2r` CLI, libp2c2r.so with its
# headers, and every shared library they load, except the ones that must come from the
# host: the C library and its loader (glibc: libc, libm, libpthread, libdl, librt,
# libresolv, ld-linux), which must match the host's kernel interface and its other
# programs, and NVIDIA's driver library libcuda.so.1 (the CUDA runtime is linked into the
# peer statically and finds the host's driver at run time).
#
#   scripts/bundle.sh [--build-dir DIR] [OUTDIR]
#
# Without --build-dir it makes (or updates) a release build in build-bundle; OUTDIR
# defaults to bundle/ (ignored by git). The folder:
#   bin/        p2c2r-peer, p2c2r-coordinator, p2c2r: wrappers that put lib/ on
#               LD_LIBRARY_PATH and run the program from libexec/
#   libexec/    the programs
#   lib/        libp2c2r.so* and every library they need but the host's (see above)
#   include/    p2c2r.h and the two headers it includes, to build a game against lib/
#   MANIFEST    what is inside, and where each library came from
# Carry it anywhere (scp -r, tar) and run bin/p2c2r-peer --coordinator ...; nothing else
# needs setting.
set -euo pipefail
cd "$(dirname "$0")/.."

build=""
while [ $# -gt 0 ]; do
  case $1 in
  --build-dir) build=$2; shift 2 ;;
  -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
  -*) echo "bundle.sh: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
out=${1:-bundle}

if [ -z "$build" ]; then
  build=build-bundle
  if [ -d "$build" ]; then
    meson setup "$build" --reconfigure --buildtype=release >/dev/null
  else
    meson setup "$build" --buildtype=release >/dev/null
  fi
  ninja -C "$build"
fi
[ -f "$build/build.ninja" ] || { echo "bundle.sh: $build is not a build directory" >&2; exit 1; }

# meson install into a staging root: the programs as installed, without the build tree's
# rpaths.
stage=$(mktemp -d /tmp/p2c2r-bundle-XXXXXX)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --no-rebuild --destdir "$stage" >"$stage.log" 2>&1 ||
  { cat "$stage.log" >&2; rm -f "$stage.log"; exit 1; }
rm -f "$stage.log"

rm -rf "$out"
mkdir -p "$out/bin" "$out/libexec" "$out/lib" "$out/include"
programs=(p2c2r-peer p2c2r-coordinator p2c2r)
for p in "${programs[@]}"; do
  f=$(find "$stage" -type f -name "$p" -path '*/bin/*' | head -1)
  [ -n "$f" ] || { echo "bundle.sh: $p not installed by $build" >&2; exit 1; }
  cp "$f" "$out/libexec/$p"
  cat >"$out/bin/$p" <<WRAP
#!/bin/sh
# Runs $p with the libraries of this bundle (see MANIFEST).
here=\$(dirname "\$(readlink -f "\$0")")/..
LD_LIBRARY_PATH="\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/libexec/$p" "\$@"
WRAP
  chmod 755 "$out/bin/$p"
done
# libp2c2r.so with its soname and development links, as installed.
find "$stage" -name 'libp2c2r.so*' -exec cp -P {} "$out/lib/" \;
for h in p2c2r.h p2c2r_error.h p2c2r_formats.h; do
  cp "$(find "$stage" -name "$h" | head -1)" "$out/include/"
done

# What comes from the host: glibc's libraries and loader, the NVIDIA driver.
host_lib() {
  case $1 in
  libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
    libresolv.so.* | libutil.so.* | libanl.so.* | ld-linux*.so.* | linux-vdso.so.* | \
    libcuda.so* | libnvidia-*.so*) return 0 ;;
  esac
  return 1
}
{
  echo "P2C2R bundle from $(git describe --always --dirty 2>/dev/null || echo unknown)," \
    "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "programs: ${programs[*]}"
  echo "from the host: the C library (glibc) and its loader; libcuda.so.1 (NVIDIA driver)"
  echo "libraries:"
} >"$out/MANIFEST"
# Every library the programs and libp2c2r load, transitively (ldd walks the whole tree).
LD_LIBRARY_PATH="$out/lib" ldd "$out"/libexec/* "$out"/lib/libp2c2r.so.*.*.* 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    host_lib "$name" && continue
    [ -e "$out/lib/$name" ] && continue
    cp -L "$path" "$out/lib/$name"
    echo "  $name <- $path" >>"$out/MANIFEST"
  done
missing=$(LD_LIBRARY_PATH="$out/lib" ldd "$out"/libexec/* 2>/dev/null | grep 'not found' || true)
[ -z "$missing" ] || { echo "bundle.sh: unresolved libraries: $missing" >&2; exit 1; }
echo "bundle: $out ($(du -sh "$out" | cut -f1), $(ls "$out/lib" | wc -l) files in lib/)"
