#!/usr/bin/env bash
# install-deps.sh - install the Debian packages fleet-handshake needs to build,
# test and demo, when they are missing. Idempotent; needs root only when
# something is missing. Used by `make deps` (and so by `make check`).
#
#   install-deps.sh           everything: build, test, demo
#   install-deps.sh --build   only what `make all` needs (the Dockerfile's
#                             build stage runs this)
set -euo pipefail

# what `make all` needs: the compiler and the -dev package of every
# pkg-config module in the Makefile's PKGS
build_pkgs=(
  build-essential pkg-config
  libcurl4-openssl-dev libssl-dev libmsgpack-dev libcjson-dev libyaml-dev
  libzmq3-dev
)
# what the tests and the demo need on top; the Go packages build the chart
# tests' Helm-compatible renderer (tests/helm/render)
test_pkgs=(
  libcmocka-dev
  python3 python3-kubernetes python3-pytest python3-yaml
  openssl curl valgrind
  golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev
  golang-github-xeipuuv-gojsonschema-dev
)
pkgs=("${build_pkgs[@]}")
if [ "${1:-}" != "--build" ]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
