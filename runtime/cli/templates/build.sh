#!/bin/sh
# Builds {{name}}.wasm (run it with `weir run -r TRACE --handler {{name}}.wasm`).
# Toolchains: `scripts/setup-guests` in the weir repository; WEIR_SDK overrides
# where weir's guest-sdk folder is.
set -eu
cd "$(dirname "$0")"
exec "${WEIR_SDK:-{{sdk}}}/{{lang}}/build-handler" . "${1:-{{name}}.wasm}"
