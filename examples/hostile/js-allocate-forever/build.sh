#!/bin/sh
# Builds js-allocate-forever.wasm (or the file named by $1).
set -eu
cd "$(dirname "$0")"
exec ../../../guest-sdk/javascript/build-handler . "${1:-js-allocate-forever.wasm}"
