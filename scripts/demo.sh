#!/usr/bin/env bash
# The main job on a local cluster: build, start a coordinator and two CPU peers on
# loopback, upscale the sample frames 2x through them, print the summary, stop everything.
#   bash scripts/demo.sh [extra p2c2r upscale flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2c2r_install_deps "${P2C2R_PACKAGES[@]}"

[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The coordinator picks free loopback ports and says which on its ready line.
build-release/coordinator/p2c2r-coordinator --clients 'tcp://127.0.0.1:*' --peers 'tcp://127.0.0.1:*' \
  --log-level warn >"$work/coordinator.out" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/coordinator.out" && break; sleep 0.05; done
read -r _ _ clients peers <"$work/coordinator.out"
clients=${clients#clients=}
peers=${peers#peers=}
for name in peer-a peer-b; do
  build-release/peer/p2c2r-peer --coordinator "$peers" --name "$name" --log-level warn >/dev/null &
  pids+=($!)
done

mkdir -p "${P2C2R_DEMO_OUT:-out/demo}"
frames=(/usr/share/wallpapers/*/contents/images/2560x1600.jpg
        /usr/share/wallpapers/*/contents/images/1920x1080.jpg)
echo "upscaling ${#frames[@]} frames 2x through coordinator $clients and 2 CPU peers"
build-release/client/p2c2r upscale --coordinator "$clients" --scale 2 --mode fast --window 8 \
  -o "${P2C2R_DEMO_OUT:-out/demo}" "$@" "${frames[@]}"
echo "outputs in ${P2C2R_DEMO_OUT:-out/demo}/"
