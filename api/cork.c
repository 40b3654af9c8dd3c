/* cork.c — gathering a worker's writes (see cork.h).
 *
 * Like accept.c, this file defines libc functions (sendmsg, close,
 * shutdown) which the dynamic linker binds every library's calls to. Each
 * is the plain system call unless the descriptor has bytes held.
 *
 * Ownership: a `held` buffer belongs to the worker thread that allocated it
 * and is never freed (it stays reachable from `all_held`). It holds one
 * socket's bytes at a time: by_fd[fd] points at it while it does. Only its
 * owner (by number: a thread that ended has no successor) takes it for a
 * socket and adds to it; it is let go (fd -1, by_fd cleared) by its
 * owner's flush once empty, or by any thread's close or shutdown of the
 * socket. Its bytes and fd change only under its mutex, so whoever holds
 * the mutex and finds fd unchanged writes to that socket in order. gRPC core
 * never writes one socket from two threads at once (a transport's writes
 * follow one another), so a write that finds by_fd[fd] empty has no held
 * bytes to go before it. */
#include "cork.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HELD_MAX 64       /* sockets one worker holds bytes for at once; past it, written at once */
#define FDS_TRACKED 65536 /* descriptors at or above it are written at once */

typedef struct held {
    pthread_mutex_t mu;
    int fd; /* the socket whose bytes these are; -1: free */
    size_t len;
    unsigned long owner; /* the owning thread's `me` */
    struct held *next_of_all;
    unsigned char bytes[CORK_BYTES];
} held;

static held *_Atomic by_fd[FDS_TRACKED];
static held *_Atomic all_held; /* every buffer ever made: never freed, so never a leak */
static atomic_ulong threads_corking;

static _Thread_local unsigned long me; /* cork_thread: this thread gathers, as number `me` */
static _Thread_local bool corking;
static _Thread_local bool fresh; /* bytes gathered since the last flush */
static _Thread_local held *mine[HELD_MAX];
static _Thread_local int n_mine;

static ssize_t raw_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return syscall(SYS_sendmsg, fd, msg, flags);
}

/* Sends what h holds, as much as the socket takes; h locked. A socket that
 * failed for good (reset, shut down) drops them: nothing will read them. */
static void drain(held *h)
{
    size_t off = 0;
    while (off < h->len) {
        ssize_t n = syscall(SYS_sendto, h->fd, h->bytes + off, h->len - off,
                            MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            break; /* kept: retried at the next write or flush */
        off = h->len;
    }
    if (off < h->len)
        memmove(h->bytes, h->bytes + off, h->len - off);
    h->len -= off;
}

/* h locked and holding fd's bytes: sends them and forgets the socket. */
static void let_go_locked(held *h)
{
    drain(h);
    atomic_store(&by_fd[h->fd], NULL);
    h->fd = -1;
    h->len = 0;
}

/* fd is closing or shutting down: its held bytes go now, or never. */
static void let_go(int fd)
{
    if (fd < 0 || fd >= FDS_TRACKED)
        return;
    int saved = errno;
    for (;;) {
        held *h = atomic_load(&by_fd[fd]);
        if (!h)
            break;
        pthread_mutex_lock(&h->mu);
        bool ours = h->fd == fd;
        if (ours)
            let_go_locked(h);
        pthread_mutex_unlock(&h->mu);
        if (ours)
            break;
    }
    errno = saved;
}

/* A free buffer of this thread's, taken for fd; NULL when all are in use
 * or another thread's already holds fd's bytes. */
static held *take(int fd)
{
    for (int i = 0; i <= n_mine && i < HELD_MAX; i++) {
        if (i == n_mine) {
            held *h = calloc(1, sizeof *h);
            if (!h)
                return NULL;
            pthread_mutex_init(&h->mu, NULL);
            h->fd = -1;
            h->owner = me;
            h->next_of_all = atomic_load(&all_held);
            while (!atomic_compare_exchange_weak(&all_held, &h->next_of_all, h))
                ;
            mine[n_mine++] = h;
        }
        held *h = mine[i];
        pthread_mutex_lock(&h->mu);
        bool was_free = h->fd == -1, taken = false;
        if (was_free) {
            held *none = NULL;
            taken = atomic_compare_exchange_strong(&by_fd[fd], &none, h);
            if (taken) {
                h->fd = fd;
                h->len = 0;
            }
        }
        pthread_mutex_unlock(&h->mu);
        if (was_free) /* taken, or fd is held by another thread's buffer */
            return taken ? h : NULL;
    }
    return NULL;
}

static size_t msg_bytes(const struct msghdr *msg)
{
    size_t n = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++)
        n += msg->msg_iov[i].iov_len;
    return n;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (fd < 0 || fd >= FDS_TRACKED)
        return raw_sendmsg(fd, msg, flags);
    size_t total = msg_bytes(msg);
    /* only plain stream writes are gathered: no address, control data or
     * flags beyond these two */
    bool gather = corking && total <= CORK_BYTES && !msg->msg_name && !msg->msg_controllen &&
                  (flags & ~(MSG_NOSIGNAL | MSG_DONTWAIT)) == 0;
    held *h;
    for (;;) {
        h = atomic_load(&by_fd[fd]);
        if (!h) {
            if (!gather)
                return raw_sendmsg(fd, msg, flags);
            h = take(fd);
            if (!h && !atomic_load(&by_fd[fd]))
                return raw_sendmsg(fd, msg, flags); /* no buffer free */
            if (!h)
                continue;
        }
        pthread_mutex_lock(&h->mu);
        if (h->fd == fd)
            break;
        pthread_mutex_unlock(&h->mu); /* let go after it was looked up: look again */
    }
    ssize_t r;
    if (gather && h->owner == me && h->len + total <= CORK_BYTES) {
        for (size_t i = 0; i < msg->msg_iovlen; i++) {
            memcpy(h->bytes + h->len, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
            h->len += msg->msg_iov[i].iov_len;
        }
        fresh = true;
        r = (ssize_t)total;
    } else {
        drain(h);
        if (h->len > 0) {
            errno = EAGAIN; /* as a full socket answers: gRPC core waits until it is writable */
            r = -1;
        } else {
            r = raw_sendmsg(fd, msg, flags);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

int close(int fd)
{
    let_go(fd);
    return (int)syscall(SYS_close, fd);
}

int shutdown(int fd, int how)
{
    let_go(fd);
    return (int)syscall(SYS_shutdown, fd, how);
}

void cork_thread(void)
{
    if (!me) /* a number no other thread had, even one that ended */
        me = atomic_fetch_add(&threads_corking, 1) + 1;
}

void cork_begin(void)
{
    corking = me != 0;
}

void cork_end(void)
{
    corking = false;
}

bool cork_pending(void)
{
    return fresh;
}

void cork_flush(void)
{
    for (int i = 0; i < n_mine; i++) {
        held *h = mine[i];
        pthread_mutex_lock(&h->mu);
        if (h->fd >= 0) {
            drain(h);
            if (h->len == 0)
                let_go_locked(h);
        }
        pthread_mutex_unlock(&h->mu);
    }
    fresh = false;
}
