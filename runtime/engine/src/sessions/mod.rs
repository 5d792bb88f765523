//! Connections as Zeek keys, ages and describes them: the connection table,
//! originator/responder roles, TCP endpoint states, history, sizes, timers
//! on network time, and UIDs (CONNECTIONS.md §1–8).
