/* stream_slots.h — the bound on long-lived streams (watches, reflection):
 * at most `total` open at once on the server and `per_connection` on any
 * one connection, so no client, keyed or not, can hold the server's memory
 * with streams it never closes. HTTP/2's own per-connection limit
 * (SETTINGS_MAX_CONCURRENT_STREAMS) is enforced by gRPC core only once the
 * client has acknowledged the server's SETTINGS, which a hostile client
 * never does: this bound is the server's own. A connection is known by its
 * peer address (address and port). */
#ifndef SUPPLYSEC_STREAM_SLOTS_H
#define SUPPLYSEC_STREAM_SLOTS_H

#include <stdbool.h>

#include "status.h"

typedef struct stream_slots stream_slots;

/* NULL when out of memory. */
stream_slots *stream_slots_new(int total, int per_connection);
void stream_slots_free(stream_slots *s);

/* Takes a slot for one stream of peer; false with st RESOURCE_EXHAUSTED
 * (saying which bound) when none is free. */
bool stream_slots_take(stream_slots *s, const char *peer, status *st);
/* Gives back a slot taken for peer. */
void stream_slots_give(stream_slots *s, const char *peer);

#endif
