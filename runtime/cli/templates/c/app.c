// {{name}}: a weir handler. Writes one line per connection to {{name}}.log.
//
// Each event interface exported in world.wit is a function here, named
// exports_weir_events_<interface>_<function> (see build/gen/handler.h after a build).

#include "weir.h"

static weir_stream_t LOG = WEIR_STREAM("{{name}}",
    {"ts", WEIR_TIME}, {"uid", WEIR_STRING}, {"orig_h", WEIR_ADDR}, {"resp_p", WEIR_PORT},
    {"history", WEIR_STRING});

void exports_weir_events_connection_state_remove_connection_state_remove(weir_connection_t *c) {
    weir_value_t v[] = {
        weir_time(c->start_time),
        weir_string(&c->uid),
        weir_addr(&c->id.orig_h),
        weir_port(&c->id.resp_p),
        weir_string(&c->history),
    };
    weir_write(&LOG, v, 5);
    weir_connection_free(c);
}
