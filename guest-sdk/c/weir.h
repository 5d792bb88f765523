// Helpers for weir handlers written in C.
//
// The bindings themselves (build/gen/handler.h) are generated from weir's WIT
// by `wit-bindgen c` at every build; this header adds short names and a typed
// logging helper:
//
//   static weir_stream_t LOG = WEIR_STREAM("name", {"ts", WEIR_TIME}, {"uid", WEIR_STRING});
//   weir_value_t v[] = { weir_time(t), weir_string(&c->uid) };
//   weir_write(&LOG, v, 2);
//
// Ownership (canonical ABI): an event function owns its arguments and must
// free them (weir_connection_free); values passed to weir_write are only borrowed.
#ifndef WEIR_H
#define WEIR_H

#include <stddef.h>
#include <stdint.h>
#include "handler.h"

/// A connection record.
typedef weir_events_types_connection_t weir_connection_t;
/// An IP address (variant ipv4 / ipv6).
typedef weir_events_types_ip_address_t weir_ip_address_t;
/// A port: number and transport.
typedef weir_events_types_port_t weir_port_t;
/// One log value.
typedef weir_events_log_log_value_t weir_value_t;

/// Frees a connection record an event function received.
#define weir_connection_free(c) weir_events_types_connection_free(c)

/// Zeek column types.
enum {
    WEIR_BOOL = WEIR_EVENTS_LOG_LOG_TYPE_BOOL,
    WEIR_COUNT = WEIR_EVENTS_LOG_LOG_TYPE_COUNT,
    WEIR_INT = WEIR_EVENTS_LOG_LOG_TYPE_INT,
    WEIR_DOUBLE = WEIR_EVENTS_LOG_LOG_TYPE_DOUBLE,
    WEIR_TIME = WEIR_EVENTS_LOG_LOG_TYPE_TIME,
    WEIR_INTERVAL = WEIR_EVENTS_LOG_LOG_TYPE_INTERVAL,
    WEIR_STRING = WEIR_EVENTS_LOG_LOG_TYPE_STRING,
    WEIR_ADDR = WEIR_EVENTS_LOG_LOG_TYPE_ADDR,
    WEIR_PORT = WEIR_EVENTS_LOG_LOG_TYPE_PORT,
    WEIR_ENUM = WEIR_EVENTS_LOG_LOG_TYPE_ENUM,
    WEIR_SET_OF_STRING = WEIR_EVENTS_LOG_LOG_TYPE_SET_OF_STRING,
    WEIR_VECTOR_OF_STRING = WEIR_EVENTS_LOG_LOG_TYPE_VECTOR_OF_STRING,
};

/// One column: its name and Zeek type.
typedef struct {
    const char *name;
    uint8_t type;
} weir_column_t;

/// A log stream (file <name>.log), created on its first write.
typedef struct {
    const char *name;
    const weir_column_t *columns;
    size_t ncolumns;
    int state; // 0 not created yet, 1 created, -1 refused by the host
    weir_events_log_stream_id_t id;
} weir_stream_t;

/// A stream initialiser: WEIR_STREAM("name", {"col", WEIR_TYPE}, ...).
#define WEIR_STREAM(name, ...)                                                        \
    {(name), (const weir_column_t[]){__VA_ARGS__},                                    \
     sizeof((const weir_column_t[]){__VA_ARGS__}) / sizeof(weir_column_t), 0, 0}

/// Writes one record (one value per column, in order). The values are borrowed.
void weir_write(weir_stream_t *s, weir_value_t *values, size_t n);

/// Log values.
static inline weir_value_t weir_unset(void) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_UNSET}; return v; }
static inline weir_value_t weir_bool(bool b) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_BOOL, .val.bool_ = b}; return v; }
static inline weir_value_t weir_count(uint64_t n) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_COUNT, .val.count = n}; return v; }
static inline weir_value_t weir_int(int64_t n) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_INT, .val.int_ = n}; return v; }
static inline weir_value_t weir_double(double d) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_DOUBLE, .val.double_ = d}; return v; }
static inline weir_value_t weir_time(double t) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_TIME, .val.time = t}; return v; }
static inline weir_value_t weir_interval(double t) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_INTERVAL, .val.interval = t}; return v; }
static inline weir_value_t weir_string(const handler_string_t *s) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_STRING, .val.string = *s}; return v; }
static inline weir_value_t weir_addr(const weir_ip_address_t *a) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_ADDR, .val.addr = *a}; return v; }
static inline weir_value_t weir_port(const weir_port_t *p) { weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_PORT, .val.port = *p}; return v; }
/// A string value from a C string (not copied; must outlive the weir_write call).
weir_value_t weir_cstring(const char *s);
/// An enum value (e.g. "Scan::Port_Scan") from a C string (not copied).
weir_value_t weir_enum(const char *s);

/// Longest text weir_addr_str writes, with its NUL.
#define WEIR_ADDR_STRLEN 46
/// Writes an address as Zeek does ("10.0.0.1", "2001:db8::1") into buf; returns buf.
char *weir_addr_str(const weir_ip_address_t *a, char buf[WEIR_ADDR_STRLEN]);
/// True when two addresses are equal.
bool weir_addr_eq(const weir_ip_address_t *a, const weir_ip_address_t *b);

/// Current network time (seconds since the epoch).
double weir_network_time(void);
/// Reporter messages (reporter.log).
void weir_info(const char *msg);
/// See weir_info.
void weir_warning(const char *msg);
/// See weir_info.
void weir_error(const char *msg);

#endif
