#!/bin/sh
# Builds scan.wasm (or the file named by $1).
set -eu
cd "$(dirname "$0")"
exec ../../../guest-sdk/python/build-handler . "${1:-scan.wasm}"
