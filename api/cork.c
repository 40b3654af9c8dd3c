/* cork.c — gathering a worker's writes (see cork.h).
 *
 * Like accept.c, this file defines a libc function, sendmsg, which the
 * dynamic linker binds libgrpc's calls to; it adds MSG_MORE inside a
 * corked region of the calling thread and is the plain system call
 * everywhere else. */
#include "cork.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DIRTY_MAX 64 /* sockets one worker gathers for at once; past it, writes go out */

static _Thread_local bool enabled; /* cork_thread: this thread gathers */
static _Thread_local bool corking;
static _Thread_local int dirty[DIRTY_MAX];
static _Thread_local int n_dirty;

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (corking) {
        bool tracked = false;
        for (int i = 0; i < n_dirty && !tracked; i++)
            tracked = dirty[i] == fd;
        if (!tracked && n_dirty < DIRTY_MAX) {
            dirty[n_dirty++] = fd;
            tracked = true;
        }
        if (tracked) /* else this one goes out at once */
            flags |= MSG_MORE;
    }
    return syscall(SYS_sendmsg, fd, msg, flags);
}

void cork_thread(void)
{
    enabled = true;
}

void cork_begin(void)
{
    corking = enabled;
}

void cork_end(void)
{
    corking = false;
}

bool cork_pending(void)
{
    return n_dirty > 0;
}

void cork_flush(void)
{
    static const int one = 1;
    for (int i = 0; i < n_dirty; i++)
        setsockopt(dirty[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* pushes */
    n_dirty = 0;
}
