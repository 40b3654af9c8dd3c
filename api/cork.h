/* cork.h — answers of several calls on one connection leave in one write.
 *
 * gRPC core writes each call's answer to its socket as soon as the batch
 * that sends it is started (docs/grpc-core.md): one sendmsg, and on the
 * loopback or a LAN one TCP segment, per call. Inside a corked region the
 * worker's sendmsg calls carry MSG_MORE, so the kernel gathers what they
 * write; cork_flush pushes every socket written since (setting TCP_NODELAY
 * again pushes what is pending). A worker corks only around its own
 * grpc_call_start_batch calls and its non-blocking polls, and flushes
 * before it waits for work and after a bounded number of events, so an
 * answer is late by at most the work already in hand. Other threads, and
 * every other sendmsg (the store's), are untouched. */
#ifndef SUPPLYSEC_CORK_H
#define SUPPLYSEC_CORK_H

#include <stdbool.h>

/* The calling thread gathers its writes in corked regions from now on;
 * elsewhere cork_begin does nothing. */
void cork_thread(void);
void cork_begin(void);
void cork_end(void);
/* Pushes what this thread's corked writes left pending. */
void cork_flush(void);
bool cork_pending(void);

#endif
