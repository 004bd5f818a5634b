#!/usr/bin/env bash
# bundle_test: the relocatable bundle (scripts/bundle.sh) as an operator carries it to a
# host with no package manager. Builds the bundle from this build, then
#   - every program and library in it, under ldd with LD_LIBRARY_PATH on the bundle's
#     lib/ only, resolves every library it needs inside the bundle, except the host's own
#     (glibc and its loader; libcuda, the NVIDIA driver), and none is "not found";
#   - the bundled coordinator, a peer and the CLI, started through bin/ with a scrubbed
#     environment (env -i: no LD_LIBRARY_PATH, a PATH of /usr/bin:/bin only), upscale one
#     frame; while they run, every shared object mapped into the coordinator and the peer
#     comes from the bundle or is one of the host's own.
#
#   bundle_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
fail() {
  echo "bundle_test: $*" >&2
  exit 1
}
tmp=$(mktemp -d /tmp/p2c2r-bundle-test-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
b=$tmp/bundle

bash "$src/scripts/bundle.sh" --build-dir "$build" "$b" || fail "bundle.sh failed"
for p in p2c2r-peer p2c2r-coordinator p2c2r; do
  [ -x "$b/bin/$p" ] && [ -x "$b/libexec/$p" ] || fail "$p missing from the bundle"
done
[ -e "$b/lib/libp2c2r.so" ] && [ -f "$b/include/p2c2r.h" ] || fail "SDK missing from the bundle"

host_lib() { # the libraries the host must provide
  case $1 in
  libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
    libresolv.so.* | libutil.so.* | libanl.so.* | ld-linux*.so.* | */ld-linux*.so.* | \
    linux-vdso.so.* | libcuda.so* | libnvidia-*.so*) return 0 ;;
  esac
  return 1
}
checked=0
for f in "$b"/libexec/* "$b"/lib/*.so*; do
  [ -L "$f" ] && continue
  out=$(env -i LD_LIBRARY_PATH="$b/lib" ldd "$f" 2>&1) || fail "ldd $f: $out"
  if grep -q 'not found' <<<"$out"; then
    fail "$f: $(grep 'not found' <<<"$out")"
  fi
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    host_lib "$name" && continue
    case $path in
    "$b"/lib/*) checked=$((checked + 1)) ;;
    *) fail "$(basename "$f") loads $name from $path, outside the bundle" ;;
    esac
  done <<<"$out"
done
echo "ldd: $checked library references resolved inside the bundle"

# A loopback address of this test's own (as tests/integration/cluster.c picks them).
host=127.$((($$ >> 16) & 255 | 1)).$((($$ >> 8) & 255)).$(($$ & 255 | 1))
scrub=(env -i PATH=/usr/bin:/bin HOME="$tmp" P2C2R_LOG=info)
# Wait for a line starting with $2 in file $1 (a program's stdout); print it.
ready() {
  for _ in $(seq 1 300); do
    line=$(grep -m1 "^$2" "$1" || true)
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 0.1
  done
  fail "no '$2' in $1: $(cat "$1" "$1.err" 2>/dev/null)"
}
# Every shared object mapped into a process: from the bundle, or one of the host's own.
check_maps() { # pid name
  local n=0 so
  while read -r so; do
    case $so in
    "$b"/*) n=$((n + 1)) ;;
    *) host_lib "$(basename "$so")" || fail "$2 mapped $so, outside the bundle" ;;
    esac
  done < <(awk '$6 ~ /\.so/ {print $6}' "/proc/$1/maps" | sort -u)
  [ "$n" -gt 0 ] || fail "$2 mapped nothing from the bundle"
  echo "$2: $n shared objects mapped from the bundle"
}

"${scrub[@]}" "$b/bin/p2c2r-coordinator" --clients "tcp://$host:*" --peers "tcp://$host:*" \
  >"$tmp/coord" 2>"$tmp/coord.err" &
pids+=($!)
line=$(ready "$tmp/coord" "p2c2r-coordinator ready")
clients=$(sed -n 's/.* clients=\([^ ]*\).*/\1/p' <<<"$line")
peers=$(sed -n 's/.* peers=\([^ ]*\).*/\1/p' <<<"$line")
"${scrub[@]}" "$b/bin/p2c2r-peer" --coordinator "$peers" --slots 1 --threads 1 \
  >"$tmp/peer" 2>"$tmp/peer.err" &
pids+=($!)
line=$(ready "$tmp/peer" "p2c2r-peer ready")
echo "$line"
for _ in $(seq 1 300); do
  grep -q "registered with coordinator" "$tmp/peer.err" && break
  sleep 0.1
done
check_maps "${pids[0]}" coordinator
check_maps "${pids[1]}" peer
"${scrub[@]}" "$b/bin/p2c2r" upscale --coordinator "$clients" --scale 2 --mode bicubic \
  -o "$tmp/out" "$src/tests/data/bythewater_420.jpg" >"$tmp/cli" 2>&1 ||
  fail "p2c2r upscale failed: $(cat "$tmp/cli")"
grep -q "ok=1 errors=0" "$tmp/cli" || fail "no frame back: $(cat "$tmp/cli")"
[ -s "$tmp/out/0000_bythewater_420.jpg" ] || fail "no output file"
echo "bundle_test: ok ($(grep summary "$tmp/cli"))"
