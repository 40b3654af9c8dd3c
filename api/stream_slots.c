/* stream_slots.c — counts of open streams, in total and per peer (see
 * stream_slots.h). Streams are few and long-lived, so a flat array searched
 * under one mutex is enough: it holds at most `total` peers, since a peer is
 * only listed while it holds a slot. */
#include "stream_slots.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer_count {
    char *peer; /* owned */
    int streams;
} peer_count;

struct stream_slots {
    pthread_mutex_t mu;
    int total, per_connection;
    int open;          /* streams open now */
    peer_count *peers; /* [0, n_peers) in use */
    int n_peers;
};

stream_slots *stream_slots_new(int total, int per_connection)
{
    stream_slots *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->peers = calloc((size_t)(total > 0 ? total : 1), sizeof *s->peers);
    if (!s->peers) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->total = total;
    s->per_connection = per_connection;
    return s;
}

void stream_slots_free(stream_slots *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_peers; i++)
        free(s->peers[i].peer);
    free(s->peers);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static peer_count *find(stream_slots *s, const char *peer)
{
    for (int i = 0; i < s->n_peers; i++)
        if (strcmp(s->peers[i].peer, peer) == 0)
            return &s->peers[i];
    return NULL;
}

bool stream_slots_take(stream_slots *s, const char *peer, status *st)
{
    bool ok = false;
    pthread_mutex_lock(&s->mu);
    peer_count *p = find(s, peer);
    if (s->open >= s->total) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                    "the server has %d streams open, its limit; close a stream or retry later",
                    s->total);
    } else if (p && p->streams >= s->per_connection) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                    "this connection has %d streams open, the limit per connection; close one "
                    "first",
                    s->per_connection);
    } else if (!p && !(s->peers[s->n_peers].peer = strdup(peer))) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        if (!p) {
            p = &s->peers[s->n_peers++];
            p->streams = 0;
        }
        p->streams++;
        s->open++;
        ok = true;
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void stream_slots_give(stream_slots *s, const char *peer)
{
    pthread_mutex_lock(&s->mu);
    peer_count *p = find(s, peer);
    if (p) {
        s->open--;
        if (--p->streams == 0) { /* unlist it: move the last entry here */
            free(p->peer);
            *p = s->peers[--s->n_peers];
        }
    }
    pthread_mutex_unlock(&s->mu);
}
