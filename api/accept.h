/* accept.h — the connection bound: how many connections the server holds,
 * and what becomes of the ones past it.
 *
 * gRPC core (1.51) stops its listener for good on the first accept4() that
 * fails with anything but EAGAIN/ECONNABORTED: one EMFILE, and no new
 * connection is ever accepted again while the old ones keep working. So the
 * server never lets accept4() fail that way: accept.c defines accept4()
 * itself (gRPC core's call to it binds to the executable's definition) and
 *  - closes at once a connection whose descriptor would reach the ceiling
 *    (the client sees the connection close: UNAVAILABLE, retryable);
 *  - on EMFILE/ENFILE frees a descriptor kept in reserve, accepts and closes
 *    the waiting connections, takes the reserve back, and answers EAGAIN, so
 *    gRPC keeps listening and accepts again once descriptors free up;
 *  - answers the transient errors accept(2) lists (ENOBUFS, ENOMEM, network
 *    errors) with EAGAIN for the same reason.
 * Descriptors are allocated lowest first, so an accepted descriptor's number
 * bounds how many are open: the ceiling bounds them all, connections
 * included, below the process's open-file limit.
 */
#ifndef SUPPLYSEC_ACCEPT_H
#define SUPPLYSEC_ACCEPT_H

#include <stdint.h>

/* Raises the soft open-file limit to the hard limit; returns the soft limit
 * now in force. */
long accept_raise_fd_limit(void);

/* Sets the ceiling: connections are held while fewer than `ceiling`
 * descriptors are open. Takes the reserve descriptor. Call before the
 * server starts listening. */
void accept_limit_set(int ceiling);

/* The ceiling in force, and the connections closed at once so far. */
int accept_ceiling(void);
int64_t accept_shed_total(void);

#endif
