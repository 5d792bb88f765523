// Port-scan detector (the same in every language of examples/scan/): counts the
// distinct responder ports (TCP and UDP) each originator reached, over
// connection_state_remove, and writes one scan.log line when an originator
// reaches THRESHOLD ports.

#include <stdlib.h>
#include <string.h>

#include "weir.h"

// Distinct responder ports at which an originator counts as a scanner.
#define THRESHOLD 20

static weir_stream_t SCAN = WEIR_STREAM("scan",
    {"ts", WEIR_TIME}, {"uid", WEIR_STRING}, {"scanner", WEIR_ADDR}, {"ports", WEIR_COUNT},
    {"victim", WEIR_ADDR}, {"port", WEIR_PORT}, {"note", WEIR_ENUM});

// One originator and the sorted set of (transport << 16 | port) keys it reached.
typedef struct {
    weir_ip_address_t addr;
    uint32_t *ports;
    size_t n, cap;
    int used;
} originator_t;

// Open-addressing table of originators, grown at half load.
static originator_t *table;
static size_t table_cap, table_len;

static uint64_t addr_hash(const weir_ip_address_t *a) {
    const uint8_t *p = (const uint8_t *)&a->val;
    size_t len = a->tag == WEIR_EVENTS_TYPES_IP_ADDRESS_IPV4 ? sizeof a->val.ipv4 : sizeof a->val.ipv6;
    uint64_t h = 1469598103934665603ull ^ a->tag;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static originator_t *slot(originator_t *t, size_t cap, const weir_ip_address_t *a) {
    size_t i = addr_hash(a) & (cap - 1);
    while (t[i].used && !weir_addr_eq(&t[i].addr, a)) i = (i + 1) & (cap - 1);
    return &t[i];
}

static originator_t *lookup(const weir_ip_address_t *a) {
    if (2 * (table_len + 1) > table_cap) {
        size_t cap = table_cap ? 2 * table_cap : 64;
        originator_t *t = calloc(cap, sizeof *t);
        if (t == NULL) abort();
        for (size_t i = 0; i < table_cap; i++)
            if (table[i].used) *slot(t, cap, &table[i].addr) = table[i];
        free(table);
        table = t;
        table_cap = cap;
    }
    originator_t *o = slot(table, table_cap, a);
    if (!o->used) {
        memset(o, 0, sizeof *o);
        o->addr = *a;
        o->used = 1;
        table_len++;
    }
    return o;
}

// Adds key to the originator's set; returns the set's size.
static size_t add_port(originator_t *o, uint32_t key) {
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->ports[mid] < key) lo = mid + 1; else hi = mid;
    }
    if (lo < o->n && o->ports[lo] == key) return o->n;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 8;
        o->ports = realloc(o->ports, o->cap * sizeof *o->ports);
        if (o->ports == NULL) abort();
    }
    memmove(o->ports + lo + 1, o->ports + lo, (o->n - lo) * sizeof *o->ports);
    o->ports[lo] = key;
    return ++o->n;
}

void exports_weir_events_connection_state_remove_connection_state_remove(weir_connection_t *c) {
    weir_port_t *p = &c->id.resp_p;
    if (p->proto == WEIR_EVENTS_TYPES_TRANSPORT_TCP || p->proto == WEIR_EVENTS_TYPES_TRANSPORT_UDP) {
        size_t n = add_port(lookup(&c->id.orig_h), (uint32_t)p->proto << 16 | p->number);
        if (n == THRESHOLD) {
            weir_value_t v[] = {
                weir_time(weir_network_time()), weir_string(&c->uid), weir_addr(&c->id.orig_h),
                weir_count(n), weir_addr(&c->id.resp_h), weir_port(p), weir_enum("Scan::Port_Scan"),
            };
            weir_write(&SCAN, v, sizeof v / sizeof v[0]);
        }
    }
    weir_connection_free(c);
}
