// Helpers for weir handlers written in C (see weir.h).
#include "weir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static handler_string_t borrow(const char *s) {
    handler_string_t r = {(uint8_t *)s, strlen(s)};
    return r;
}

weir_value_t weir_cstring(const char *s) {
    weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_STRING, .val.string = borrow(s)};
    return v;
}

weir_value_t weir_enum(const char *s) {
    weir_value_t v = {.tag = WEIR_EVENTS_LOG_LOG_VALUE_ENUM, .val.enum_ = borrow(s)};
    return v;
}

static void report(void (*f)(handler_string_t *), const char *msg) {
    handler_string_t s = borrow(msg);
    f(&s);
}

void weir_info(const char *msg) { report(weir_events_reporter_info, msg); }
void weir_warning(const char *msg) { report(weir_events_reporter_warning, msg); }
void weir_error(const char *msg) { report(weir_events_reporter_error, msg); }
double weir_network_time(void) { return weir_events_runtime_network_time(); }

static int create(weir_stream_t *s) {
    weir_events_log_column_t *cols = malloc(s->ncolumns * sizeof *cols);
    if (cols == NULL) return -1;
    for (size_t i = 0; i < s->ncolumns; i++) {
        cols[i].name = borrow(s->columns[i].name);
        cols[i].type = s->columns[i].type;
    }
    weir_events_log_list_column_t list = {cols, s->ncolumns};
    handler_string_t name = borrow(s->name), err;
    bool ok = weir_events_log_create_stream(&name, &list, &s->id, &err);
    free(cols);
    if (ok) return 1;
    char msg[256];
    snprintf(msg, sizeof msg, "cannot create log %s: %.*s", s->name, (int)err.len, (const char *)err.ptr);
    handler_string_free(&err);
    weir_error(msg);
    return -1;
}

void weir_write(weir_stream_t *s, weir_value_t *values, size_t n) {
    if (s->state == 0) s->state = create(s);
    if (s->state < 0) return;
    weir_events_log_list_log_value_t list = {values, n};
    weir_events_log_write(s->id, &list);
}

char *weir_addr_str(const weir_ip_address_t *a, char buf[WEIR_ADDR_STRLEN]) {
    if (a->tag == WEIR_EVENTS_TYPES_IP_ADDRESS_IPV4) {
        snprintf(buf, WEIR_ADDR_STRLEN, "%u.%u.%u.%u", a->val.ipv4.f0, a->val.ipv4.f1, a->val.ipv4.f2, a->val.ipv4.f3);
        return buf;
    }
    const uint16_t g[8] = {a->val.ipv6.f0, a->val.ipv6.f1, a->val.ipv6.f2, a->val.ipv6.f3,
                           a->val.ipv6.f4, a->val.ipv6.f5, a->val.ipv6.f6, a->val.ipv6.f7};
    // RFC 5952: the longest run (>= 2) of zero groups becomes "::".
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) { i++; continue; }
        int j = i;
        while (j < 8 && g[j] == 0) j++;
        if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
        i = j;
    }
    char *p = buf;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            if (i == 0) *p++ = ':';
            i += best_len - 1;
            continue;
        }
        p += sprintf(p, "%x", g[i]);
        if (i < 7) *p++ = ':';
    }
    *p = 0;
    return buf;
}

bool weir_addr_eq(const weir_ip_address_t *a, const weir_ip_address_t *b) {
    if (a->tag != b->tag) return false;
    if (a->tag == WEIR_EVENTS_TYPES_IP_ADDRESS_IPV4) return memcmp(&a->val.ipv4, &b->val.ipv4, sizeof a->val.ipv4) == 0;
    return memcmp(&a->val.ipv6, &b->val.ipv6, sizeof a->val.ipv6) == 0;
}
