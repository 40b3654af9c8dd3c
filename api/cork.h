/* cork.h — answers of several calls on one connection leave in one write.
 *
 * gRPC core writes each call's answer to its socket as soon as the batch
 * that sends it is started (docs/grpc-core.md): one sendmsg per call. Inside
 * a corked region of a worker, what gRPC core writes to a socket is copied
 * into a buffer of that worker's instead (at most CORK_BYTES a socket) and
 * reported written; cork_flush sends each socket's bytes in one system call.
 * A worker corks only around its own grpc_call_start_batch calls and its
 * non-blocking polls, and flushes before it waits for work and after a
 * bounded number of events, so an answer is late by at most the work
 * already in hand.
 *
 * The bytes held stay the socket's, in order, whoever writes next: any
 * thread's sendmsg to that socket sends them first (or answers EAGAIN, as a
 * full socket does, while they cannot all go), and close and shutdown send
 * them, or drop them when they cannot go, and forget the socket before the
 * descriptor can be reused. Bytes a peer does not read stay held (its
 * socket is full) and are retried at every cork_flush. Every other thread
 * and every other sendmsg (the store's, the HTTP listener's) is untouched. */
#ifndef SUPPLYSEC_CORK_H
#define SUPPLYSEC_CORK_H

#include <stdbool.h>

#define CORK_BYTES 16384 /* held for one socket between flushes; past it, written at once */

/* The calling thread gathers its writes in corked regions from now on;
 * elsewhere cork_begin does nothing. */
void cork_thread(void);
void cork_begin(void);
void cork_end(void);
/* Sends what this thread holds (what a peer does not read stays held). */
void cork_flush(void);
/* Whether this thread holds bytes written since its last cork_flush. */
bool cork_pending(void);

#endif
