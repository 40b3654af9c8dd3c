/* test_cork.c — the bytes a worker gathers (cork.h) reach their own socket,
 * in order, whoever writes next, and never another socket: over socket
 * pairs, with the sendmsg, close and shutdown the runtime links. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cork.h"

static ssize_t put(int fd, const void *bytes, size_t n)
{
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = n};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

static ssize_t put_corked(int fd, const char *text)
{
    cork_begin();
    ssize_t n = put(fd, text, strlen(text));
    cork_end();
    return n;
}

/* What the peer can read now, NUL-terminated (at most size - 1 bytes). */
static size_t take_now(int fd, char *out, size_t size)
{
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = recv(fd, out + len, size - 1 - len, MSG_DONTWAIT);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    out[len] = '\0';
    return len;
}

/* Reads until `want` bytes came (or 1,000 tries found nothing more), this
 * thread flushing between reads when `flush`; how many came. */
static size_t take_all(int fd, unsigned char *out, size_t size, size_t want, bool flush)
{
    size_t len = 0;
    for (int round = 0; round < 1000 && len < want; round++) {
        ssize_t n = recv(fd, out + len, size - len, MSG_DONTWAIT);
        if (n > 0)
            len += (size_t)n;
        if (flush)
            cork_flush();
    }
    return len;
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static int setup(void **state)
{
    (void)state;
    cork_thread();
    return 0;
}

static void test_gathered_until_flush(void **state)
{
    (void)state;
    int sv[2];
    char got[64];
    pair(sv);
    assert_int_equal(put_corked(sv[0], "one,"), 4);
    assert_int_equal(put_corked(sv[0], "two"), 3);
    assert_true(cork_pending());
    assert_int_equal(take_now(sv[1], got, sizeof got), 0); /* held, not sent */
    cork_flush();
    assert_false(cork_pending());
    take_now(sv[1], got, sizeof got);
    assert_string_equal(got, "one,two");
    /* outside a corked region a write goes at once */
    assert_int_equal(put(sv[0], "now", 3), 3);
    take_now(sv[1], got, sizeof got);
    assert_string_equal(got, "now");
    close(sv[0]);
    close(sv[1]);
}

struct other_write {
    int fd;
    ssize_t n;
};

static void *write_from_another_thread(void *arg)
{
    struct other_write *w = arg;
    w->n = put(w->fd, "second", 6);
    return NULL;
}

static void test_another_threads_write_goes_after(void **state)
{
    (void)state;
    int sv[2];
    char got[64];
    pair(sv);
    assert_int_equal(put_corked(sv[0], "first,"), 6);
    struct other_write w = {.fd = sv[0]};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_from_another_thread, &w), 0);
    pthread_join(t, NULL);
    assert_int_equal(w.n, 6);
    take_now(sv[1], got, sizeof got); /* before this thread flushes */
    assert_string_equal(got, "first,second");
    cork_flush();
    assert_int_equal(take_now(sv[1], got, sizeof got), 0); /* nothing twice */
    close(sv[0]);
    close(sv[1]);
}

/* The worst case: a descriptor closed with bytes held and reused for another
 * connection. The bytes go to their own peer at the close, never to the
 * socket that gets the number next. */
static void test_close_sends_and_forgets(void **state)
{
    (void)state;
    int sv[2], next[2];
    char got[64];
    pair(sv);
    assert_int_equal(put_corked(sv[0], "last words"), 10);
    int fd = sv[0];
    close(sv[0]);
    take_now(sv[1], got, sizeof got);
    assert_string_equal(got, "last words");
    pair(next);
    int reused = next[0] == fd ? next[0] : next[1] == fd ? next[1] : -1;
    assert_int_not_equal(reused, -1); /* the lowest free number: the one just closed */
    int peer = reused == next[0] ? next[1] : next[0];
    cork_flush();
    assert_int_equal(take_now(peer, got, sizeof got), 0);
    assert_int_equal(put_corked(reused, "fresh"), 5);
    cork_flush();
    take_now(peer, got, sizeof got);
    assert_string_equal(got, "fresh");
    close(sv[1]);
    close(next[0]);
    close(next[1]);
}

static void test_shutdown_sends_first(void **state)
{
    (void)state;
    int sv[2];
    char got[64];
    pair(sv);
    assert_int_equal(put_corked(sv[0], "goodbye"), 7);
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    take_now(sv[1], got, sizeof got);
    assert_string_equal(got, "goodbye");
    assert_int_equal(recv(sv[1], got, sizeof got, MSG_DONTWAIT), 0); /* then the end */
    cork_flush();
    close(sv[0]);
    close(sv[1]);
}

/* A peer that does not read: what the full socket cannot take stays held,
 * a later write answers EAGAIN as the full socket would, and once the peer
 * reads, the next flush sends the rest, all in order. */
static void test_peer_that_does_not_read(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    static unsigned char fill[1 << 20], got[1 << 20];
    for (size_t i = 0; i < sizeof fill; i++)
        fill[i] = (unsigned char)(i % 251);
    size_t sent = 0;
    for (;;) {
        assert_true(sent + 512 + 4 <= sizeof fill); /* the socket fills long before */
        ssize_t n = put(sv[0], fill + sent, 512);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
        sent += (size_t)n;
    }
    /* gathered though the socket is full */
    assert_int_equal(put_corked(sv[0], "held"), 4);
    memcpy(fill + sent, "held", 4);
    cork_flush(); /* cannot go: kept */
    errno = 0;
    assert_int_equal(put(sv[0], "later", 5), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(take_all(sv[1], got, sizeof got, sent + 4, true), sent + 4);
    assert_memory_equal(got, fill, sent + 4);
    assert_int_equal(put(sv[0], "later", 5), 5);
    assert_int_equal(recv(sv[1], got, sizeof got, MSG_DONTWAIT), 5);
    assert_memory_equal(got, "later", 5);
    close(sv[0]);
    close(sv[1]);
}

/* A write bigger than what a socket may hold goes at once, after what is
 * held. */
static void test_big_write_goes_at_once(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    static char big[CORK_BYTES + 1];
    static unsigned char got[CORK_BYTES + 64];
    memset(big, 'b', sizeof big);
    assert_int_equal(put_corked(sv[0], "small,"), 6);
    cork_begin();
    assert_int_equal(put(sv[0], big, sizeof big), (ssize_t)sizeof big);
    cork_end();
    assert_int_equal(take_all(sv[1], got, sizeof got, 6 + sizeof big, false), 6 + sizeof big);
    assert_memory_equal(got, "small,", 6);
    assert_memory_equal(got + 6, big, sizeof big);
    cork_flush();
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gathered_until_flush),
        cmocka_unit_test(test_another_threads_write_goes_after),
        cmocka_unit_test(test_close_sends_and_forgets),
        cmocka_unit_test(test_shutdown_sends_first),
        cmocka_unit_test(test_peer_that_does_not_read),
        cmocka_unit_test(test_big_write_goes_at_once),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
