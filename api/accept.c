/* accept.c — accept4() for gRPC core, bounded (see accept.h).
 *
 * This file defines accept4 with glibc's signature. The executable's
 * definition is the one the dynamic linker binds libgrpc's reference to
 * (the executable comes first in the lookup order), so every connection gRPC
 * core accepts passes through here. The real call is the system call itself.
 * Nothing else in supplysecd accepts connections.
 */
#include "accept.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int ceiling = INT_MAX;
static atomic_int reserve_fd = -1; /* /dev/null, freed to accept when at EMFILE */
static atomic_llong shed_total;
static atomic_llong last_warn_s;

long accept_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX : (long)rl.rlim_cur;
}

void accept_limit_set(int new_ceiling)
{
    atomic_store(&ceiling, new_ceiling);
    if (atomic_load(&reserve_fd) < 0)
        atomic_store(&reserve_fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
}

int accept_ceiling(void)
{
    return atomic_load(&ceiling);
}

int64_t accept_shed_total(void)
{
    return atomic_load(&shed_total);
}

/* Counts a connection closed at once; a warning at most once a second. */
static void shed(const char *why)
{
    long long n = atomic_fetch_add(&shed_total, 1) + 1;
    long long now = (long long)time(NULL), last = atomic_load(&last_warn_s);
    if (now == last || !atomic_compare_exchange_strong(&last_warn_s, &last, now))
        return;
    log_line l;
    log_begin(&l, LOG_WARN, "connection closed at once: the server holds all it may");
    log_str(&l, "why", why);
    log_int(&l, "descriptor_ceiling", atomic_load(&ceiling));
    log_int(&l, "closed_so_far", n);
    log_emit(&l);
}

static int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

/* At EMFILE/ENFILE: spends the reserve on one waiting connection and closes
 * it. False when there is no reserve or nothing was waiting. */
static bool shed_with_reserve(int listener)
{
    int r = atomic_exchange(&reserve_fd, -1);
    if (r < 0)
        return false;
    close(r);
    int fd = real_accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        shed("out of file descriptors");
    }
    atomic_store(&reserve_fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
    return fd >= 0;
}

static bool transient(int err)
{
    switch (err) {
    case ENOBUFS:
    case ENOMEM:
    case EPROTO:
    case EPERM: /* a firewall rule refused it */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

int accept4(int listener, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    for (;;) {
        int fd = real_accept4(listener, addr, addrlen, flags);
        if (fd >= 0) {
            if (fd < atomic_load(&ceiling))
                return fd;
            close(fd);
            shed("descriptor ceiling reached");
            continue; /* drain: the listener is edge-triggered */
        }
        if (errno == EMFILE || errno == ENFILE) {
            if (shed_with_reserve(listener))
                continue;
            errno = EAGAIN;
            return -1;
        }
        if (transient(errno))
            errno = EAGAIN;
        return -1;
    }
}
