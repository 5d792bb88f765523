//! The sandbox host: handler components under wasmtime with fuel, memory and rate limits.
