/* fuzz_utf8.c — the UTF-8 checks (utf8.h) every request string, log line
 * and quoted excerpt goes through, and the cut of a status message
 * (status.h) that relies on them.
 *
 * Input: a byte giving a clip length, then the bytes. Oracles, against a
 * decoder written differently (support/reference.c: by code point, not by
 * byte ranges):
 *   - utf8_char_len and utf8_valid (with the offset of the first bad byte)
 *     agree with it, on the bytes and on every shorter cut of the first
 *     character;
 *   - utf8_clip gives the longest prefix of at most max bytes that ends on a
 *     character boundary, bytes that are not UTF-8 counting one each;
 *   - a status message built from the text is a prefix of it, cut by
 *     utf8_clip when too long, so UTF-8 text stays UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "reference.h"
#include "status.h"
#include "utf8.h"

static size_t ref_clip(const uint8_t *s, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n) {
        size_t k = ref_utf8_char_len(s + i, n - i);
        k = k ? k : 1;
        if (i + k > max)
            break;
        i += k;
    }
    return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t max = fuzz_byte(&in) * 3u, n, bad = SIZE_MAX;
    uint8_t *b = fuzz_bytes(&in, SIZE_MAX, &n);

    for (size_t cut = 1; cut <= 4 && cut <= n; cut++)
        FUZZ_REQUIRE(utf8_char_len(b, cut) == ref_utf8_char_len(b, cut), "char_len(%zu)", cut);
    FUZZ_REQUIRE(utf8_char_len(b, 0) == 0, "char_len of nothing");

    size_t ref_bad = n;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = ref_utf8_char_len(b + i, n - i)) == 0) {
            ref_bad = i;
            break;
        }
    bool valid = utf8_valid((const char *)b, n, &bad);
    FUZZ_REQUIRE(valid == (ref_bad == n), "valid says %d, first bad byte %zu", valid, ref_bad);
    FUZZ_REQUIRE(valid ? bad == SIZE_MAX : bad == ref_bad, "bad at %zu, expected %zu", bad,
                 ref_bad);

    /* The text up to the first NUL, NUL-terminated, for utf8_clip and status messages. */
    size_t tn = 0;
    while (tn < n && b[tn])
        tn++;
    char *text = malloc(tn + 1);
    if (!text)
        abort();
    memcpy(text, b, tn);
    text[tn] = '\0';

    int clip = utf8_clip(text, max);
    FUZZ_REQUIRE(clip >= 0 && (size_t)clip == ref_clip(b, tn, max), "clip(%zu) = %d, expected %zu",
                 max, clip, ref_clip(b, tn, max));

    status st;
    status_fail(&st, STATUS_INVALID_ARGUMENT, "%s", text);
    size_t kept = strlen(st.msg);
    size_t want = tn < sizeof st.msg ? tn : ref_clip(b, tn, sizeof st.msg - 1);
    FUZZ_REQUIRE(kept == want && memcmp(st.msg, text, kept) == 0,
                 "status kept %zu bytes of %zu, expected %zu", kept, tn, want);
    FUZZ_REQUIRE(!ref_utf8_valid(b, tn) || utf8_valid(st.msg, kept, NULL),
                 "UTF-8 text cut into a message that is not");

    free(text);
    free(b);
    return 0;
}
