# Sourced by guest-sdk/*/build-handler: finds the toolchains that
# scripts/setup-guests installed and prepares a handler's WIT folder.
# shellcheck shell=bash

WEIR_GUEST_TOOLS="${WEIR_GUEST_TOOLS:-$HOME/.local/share/weir/guest-tools}"
PATH="$WEIR_GUEST_TOOLS/bin:$WEIR_GUEST_TOOLS/venv/bin:$WEIR_GUEST_TOOLS/js/node_modules/.bin:$PATH"
SDK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WEIR_WIT_DIR="$SDK_ROOT/../wit"

# need TOOL: stops the build with one clear line when TOOL is missing.
need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "build-handler: $1 not found: run scripts/setup-guests in the weir repository (tools go to $WEIR_GUEST_TOOLS)" >&2
        exit 1
    }
}

# start_build PROJECT OUT: sets PROJ and OUT (absolute) and BUILD (PROJECT/build),
# and writes BUILD/wit: the project's world.wit beside weir's WIT package as a dependency.
start_build() {
    [ -d "$1" ] || { echo "build-handler: no project folder $1" >&2; exit 1; }
    PROJ="$(cd "$1" && pwd)"
    case "$2" in /*) OUT="$2" ;; *) OUT="$PWD/$2" ;; esac
    BUILD="$PROJ/build"
    [ -f "$PROJ/world.wit" ] || { echo "build-handler: $PROJ/world.wit is missing (it names the events the handler exports)" >&2; exit 1; }
    rm -rf "$BUILD/wit"
    mkdir -p "$BUILD/wit/deps/weir-events"
    cp "$WEIR_WIT_DIR"/*.wit "$BUILD/wit/deps/weir-events/"
    cp "$PROJ/world.wit" "$BUILD/wit/"
}
