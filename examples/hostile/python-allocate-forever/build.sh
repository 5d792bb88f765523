#!/bin/sh
# Builds python-allocate-forever.wasm (or the file named by $1).
set -eu
cd "$(dirname "$0")"
exec ../../../guest-sdk/python/build-handler . "${1:-python-allocate-forever.wasm}"
