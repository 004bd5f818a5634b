#!/usr/bin/env bash
# Build the P2C2R container images from Debian 12 roots made here with debootstrap, so
# that no image registry is needed:
#
#   1. debootstrap two minbase roots of bookworm: "build" (the build dependencies of
#      scripts/deps.sh) and "runtime" (only the shared libraries the programs load);
#   2. import each as an image (podman import);
#   3. build the coordinator, peer-cpu and peer-cuda stages of the Containerfile beside
#      this script on them, with no network, from the files git knows in this work tree;
#   4. with --check BUILD_DIR, run the images as a small cluster on loopback, as an
#      unprivileged read-only container each, and upscale the test JPEGs through them
#      with BUILD_DIR's p2c2r client;
#   5. with --save, write each image as an OCI archive, to load or push elsewhere.
#
#   sudo bash deploy/container/build-images.sh [--workdir DIR] [--mirror URL] [--tag TAG]
#        [--runtime crun|runc] [--check BUILD_DIR] [--save]
#
# Needs root (debootstrap), debootstrap and podman (Debian's packages). Images are named
# localhost/p2c2r/NAME:TAG, TAG the project's version unless given (the Kubernetes
# manifests name p2c2r/NAME:VERSION). The roots are kept in WORKDIR (default out/images)
# as tarballs and reused; delete them to refresh. --runtime picks podman's OCI runtime
# (runc where crun cannot set up cgroups, e.g. on a host with hybrid cgroups v1/v2).
set -euo pipefail
cd "$(dirname "$0")/../.."

workdir=out/images
mirror=http://deb.debian.org/debian
tag=$(sed -n "s/^  version : '\(.*\)',$/\1/p" meson.build)
runtime=""
check=""
save=0
while [ $# -gt 0 ]; do
  case $1 in
  --workdir) workdir=$2; shift 2 ;;
  --mirror) mirror=$2; shift 2 ;;
  --tag) tag=$2; shift 2 ;;
  --runtime) runtime=$2; shift 2 ;;
  --check) check=$2; shift 2 ;;
  --save) save=1; shift ;;
  -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "build-images.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "build-images.sh: debootstrap needs root" >&2; exit 1; }
for tool in debootstrap podman tar git; do
  command -v "$tool" >/dev/null || { echo "build-images.sh: needs $tool" >&2; exit 1; }
done

source scripts/deps.sh
# What p2c2r-coordinator and p2c2r-peer load (ldd), by package: the runtime image.
runtime_packages=(libzmq5 libczmq4 libprotobuf-c1 libzstd1 libturbojpeg0 libjpeg62-turbo
                  libxxhash0)
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
mkdir -p "$workdir/debs"

say() { echo "== $*"; }
podman=(podman ${runtime:+--runtime "$runtime"})
# Explicit limits for every container it starts: podman otherwise raises them to its own
# defaults, which a host whose root lacks CAP_SYS_RESOURCE refuses.
limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

# make_root NAME PACKAGE...: $workdir/NAME.tar, a bookworm minbase root with PACKAGEs.
make_root() {
  local name=$1 root="$workdir/$1.root"
  shift
  if [ -s "$workdir/$name.tar" ]; then
    say "root $name: reusing $workdir/$name.tar"
    return
  fi
  say "root $name: debootstrap bookworm from $mirror"
  rm -rf "$root"
  local IFS=,
  debootstrap --variant=minbase --include="$*" --cache-dir="$workdir/debs" \
    bookworm "$root" "$mirror"
  unset IFS
  # Package lists and downloaded .debs are of no use in an image.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
  tar --numeric-owner -C "$root" -cf "$workdir/$name.tar.part" .
  mv "$workdir/$name.tar.part" "$workdir/$name.tar"
  rm -rf "$root"
}

make_root build "${P2C2R_BUILD_PACKAGES[@]}"
make_root runtime "${runtime_packages[@]}"
for name in build runtime; do
  say "import localhost/p2c2r/bookworm-$name:$tag"
  "${podman[@]}" import --quiet "$workdir/$name.tar" "localhost/p2c2r/bookworm-$name:$tag" >/dev/null
done

# The build context: the files git tracks or would track here (no build directories).
context="$workdir/context"
rm -rf "$context"
mkdir -p "$context"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - | tar -C "$context" -xf -

targets=(coordinator peer-cpu peer-cuda)
for target in "${targets[@]}"; do
  say "build localhost/p2c2r/$target:$tag"
  "${podman[@]}" build --quiet --network=none --pull=never "${limits[@]}" \
    --build-arg "BUILD_BASE=localhost/p2c2r/bookworm-build:$tag" \
    --build-arg "RUNTIME_BASE=localhost/p2c2r/bookworm-runtime:$tag" \
    --target "$target" -f deploy/container/Containerfile \
    -t "localhost/p2c2r/$target:$tag" "$context"
done
"${podman[@]}" images --filter "reference=localhost/p2c2r/*:$tag"

if [ "$save" -eq 1 ]; then
  for target in "${targets[@]}"; do
    say "save $workdir/p2c2r-$target-$tag.oci.tar"
    rm -f "$workdir/p2c2r-$target-$tag.oci.tar"
    "${podman[@]}" save --quiet --format oci-archive -o "$workdir/p2c2r-$target-$tag.oci.tar" \
      "localhost/p2c2r/$target:$tag"
  done
fi

[ -n "$check" ] || exit 0

# --check: the coordinator and one peer of each image on loopback, each container run as
# Kubernetes runs it (deploy/kubernetes/): read-only root, no capabilities, no new
# privileges; then the test JPEGs upscaled through them by the host's client.
client="$check/client/p2c2r"
[ -x "$client" ] || { echo "build-images.sh: no client at $client" >&2; exit 1; }
say "check: a cluster of the three images on loopback"
names=(p2c2r-check-coordinator p2c2r-check-peer-cpu p2c2r-check-peer-cuda)
out=$(mktemp -d)
stop() {
  "${podman[@]}" rm --force --ignore "${names[@]}" >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap stop EXIT
run=("${podman[@]}" run --detach --network=host --read-only --cap-drop=all
     --security-opt=no-new-privileges "${limits[@]}")
"${run[@]}" --name "${names[0]}" "localhost/p2c2r/coordinator:$tag" \
  --clients 'tcp://127.0.0.1:*' --peers 'tcp://127.0.0.1:*' >/dev/null
ready=""
for _ in $(seq 100); do
  ready=$("${podman[@]}" logs "${names[0]}" 2>/dev/null | grep -m1 'p2c2r-coordinator ready' || true)
  [ -n "$ready" ] && break
  sleep 0.1
done
[ -n "$ready" ] || { "${podman[@]}" logs "${names[0]}"; echo "check: coordinator not ready" >&2; exit 1; }
echo "$ready"
read -r _ _ clients peers <<<"$ready"
clients=${clients#clients=}
peers=${peers#peers=}
for i in 1 2; do
  "${run[@]}" --name "${names[$i]}" "localhost/p2c2r/${targets[$i]}:$tag" \
    --coordinator "$peers" --name "${targets[$i]}" --slots 2 >/dev/null
done
for name in "${names[@]}"; do
  echo "$name runs as uid $("${podman[@]}" exec "$name" id -u)"
done
"$client" upscale --coordinator "$clients" --scale 2 --mode bicubic --window 8 \
  --deadline-ms 20000 -o "$out" tests/data/*.jpg | tee "$out/summary"
grep -q ' errors=0 ' "$out/summary" || { echo "check: frames failed" >&2; exit 1; }
for name in "${names[@]:1}"; do
  "${podman[@]}" logs "$name" 2>&1 | grep -q 'p2c2r-peer ready' ||
    { echo "check: $name never got ready" >&2; exit 1; }
done
say "check passed"
