#!/usr/bin/env bash
# install_test: the SDK as a game developer gets it. `meson install` of this build into a
# scratch root, then two small programs built OUT OF TREE against what was installed, with
# nothing but pkg-config (PKG_CONFIG_SYSROOT_DIR pointing into the scratch root): sdk_hello.c
# as C11 and sdk_hello.cpp as C++17, both with -Wall -Wextra -Werror -pedantic. Checks the
# installed files (header and the two it includes, p2c2r.pc, libp2c2r.so with its versioned
# soname libp2c2r.so.MAJOR.MINOR and the links to it, only p2c2r_* exported), that the
# programs record that soname, and runs them against the installed library: the run-time
# version check, and one frame upscaled by the installed library's local fallback.
#
#   install_test.sh BUILD_DIR SOURCE_DIR SANITIZE   (SANITIZE: meson's b_sanitize, or none)
set -euo pipefail
build=$1 src=$2 sanitize=$3
fail() {
  echo "install_test: $*" >&2
  exit 1
}
tmp=$(mktemp -d /tmp/p2c2r-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

meson install -C "$build" --no-rebuild --destdir "$root" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "meson install failed"; }

pcs=$(find "$root" -name p2c2r.pc)
[ "$(echo "$pcs" | wc -w)" = 1 ] || fail "want one p2c2r.pc, found: ${pcs:-none}"
# Only the scratch root's .pc files; -I and -L come out prefixed with the scratch root.
export PKG_CONFIG_LIBDIR=$(dirname "$pcs") PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$root
version=$(pkg-config --modversion p2c2r) || fail "pkg-config does not know p2c2r"
major=${version%%.*} rest=${version#*.}
minor=${rest%%.*}
libdir=$(pkg-config --variable=libdir p2c2r) # pkgconf puts the sysroot in front
includedir=$(pkg-config --variable=includedir p2c2r)
cflags=$(pkg-config --cflags p2c2r)
libs=$(pkg-config --libs p2c2r)
echo "p2c2r $version: cflags '$cflags' libs '$libs'"
case "$cflags $libs" in *"$root"*) ;; *) fail "pkg-config flags do not point into the install" ;; esac

for h in p2c2r.h p2c2r_error.h p2c2r_formats.h; do
  [ -f "$includedir/$h" ] || fail "$h not installed in $includedir"
done
real=$libdir/libp2c2r.so.$version soname=libp2c2r.so.$major.$minor
[ -f "$real" ] && [ ! -L "$real" ] || fail "$real is not installed"
[ "$(readlink "$libdir/$soname")" = "libp2c2r.so.$version" ] || fail "$soname does not link to it"
[ "$(readlink "$libdir/libp2c2r.so")" = "$soname" ] || fail "libp2c2r.so does not link to $soname"
got=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || fail "soname is '$got', want $soname"
others=$(nm -D --defined-only "$real" | awk '$2 ~ /^[TDBRV]$/ && $3 !~ /^p2c2r_/ {print $3}')
[ -z "$others" ] || fail "exports more than p2c2r_*: $others"

# Out of tree: copies of the sources in the scratch directory, no include path of the project.
mkdir "$tmp/game"
cp "$src/tests/install/sdk_hello.c" "$src/tests/install/sdk_hello.cpp" "$tmp/game/"
cd "$tmp/game"
san=()
[ "$sanitize" = none ] || san=(-fsanitize="$sanitize")
# shellcheck disable=SC2086 # pkg-config's flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic "${san[@]}" $cflags sdk_hello.c -o sdk_hello \
  $libs || fail "the C program does not build against the installed SDK"
# shellcheck disable=SC2086
${CXX:-c++} -std=c++17 -Wall -Wextra -Werror -pedantic "${san[@]}" $cflags sdk_hello.cpp \
  -o sdk_hello_cpp $libs || fail "the C++ program does not build against the installed SDK"
# Output is read whole before grep looks at it: `grep -q` stops at the first match, and
# under pipefail the writer's SIGPIPE would then fail the test at random.
for p in sdk_hello sdk_hello_cpp; do
  dynamic=$(readelf -d "$p")
  grep -q "(NEEDED).*\[$soname\]" <<<"$dynamic" || fail "$p does not need $soname"
done

export LD_LIBRARY_PATH=$libdir
out=$(./sdk_hello) || fail "sdk_hello failed"
echo "$out"
[ "$out" = "sdk_hello ok $version source=local 128x72" ] || fail "sdk_hello said '$out'"
out=$(./sdk_hello_cpp) || fail "sdk_hello_cpp failed"
echo "$out"
[ "$out" = "sdk_hello++ ok $version" ] || fail "sdk_hello_cpp said '$out'"
# The library they ran with is the installed one.
loaded=$(ldd ./sdk_hello)
grep -q "$soname => $libdir/$soname" <<<"$loaded" || fail "sdk_hello did not load $libdir"
echo "install_test: ok"
