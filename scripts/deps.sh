#!/usr/bin/env bash
# Install, from Debian's packages, whatever of the build and run dependencies is missing.
# Sourced by demo.sh and test.sh; safe to run again (installs nothing when all is there).
set -euo pipefail

# What building the programs takes (also the build image of deploy/container/).
P2C2R_BUILD_PACKAGES=(
  build-essential pkg-config meson ninja-build
  libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler
  libzstd-dev libturbojpeg0-dev libxxhash-dev libjpeg62-turbo-dev
  libmicrohttpd-dev            # /metrics and /status of the coordinator and peers
  libcurl4-openssl-dev libjson-c-dev  # `p2c2r status`: fetches /status and reads its JSON
)

P2C2R_PACKAGES=(
  "${P2C2R_BUILD_PACKAGES[@]}"
  libswscale-dev               # bench only: the upscale kernels are compared with it
  plasma-workspace-wallpapers  # sample frames: real photographs and renders
  python3                      # counts test results
  systemd                      # systemd-analyze: the unit test of deploy/systemd
  python3-yaml python3-kubernetes  # the test of deploy/kubernetes: YAML and the API's models
  clang libclang-rt-14-dev     # the libFuzzer build of tests/fuzz (clang's libFuzzer, ASan)
  prometheus                   # the metrics test scrapes the coordinator with a real server
  g++                          # sdk_install: a C++ program built against the installed SDK
  ffmpeg                       # video_test: real ffmpeg on both sides of `p2c2r video`
)

p2c2r_install_deps() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}
