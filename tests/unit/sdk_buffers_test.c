/* sdk_buffers_test: frame buffers reused between submits (client/buffers.c).
 * - a returned buffer is handed out again for a frame that fits, the smallest that fits;
 * - at most keep_bytes of free buffers are kept, the rest freed;
 * - a lent buffer's release runs exactly once, when its last reference goes, from whichever
 *   thread drops it, and never after a cancel;
 * - destroying the pool waits for buffers still held by another thread.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "client/buffers.h"
#include "testutil.h"

static int releases;
static const void *released;

static void on_release(void *arg, const void *data)
{
    (void)arg;
    releases++;
    released = data;
}

static void *drop_later(void *arg)
{
    usleep(100000);
    sdk_buf *b = arg;
    sdk_buf_unref(&b);
    return NULL;
}

int main(void)
{
    sdk_bufpool *p = sdk_bufpool_new(10u << 20);
    uint64_t allocs, bytes;

    /* Reuse: one buffer of 1 MiB serves frames of 1 MiB and less, again and again. */
    for (int i = 0; i < 100; i++) {
        sdk_buf *b = sdk_buf_get(p, (size_t)(1u << 20) - (size_t)i);
        CHECK(b != NULL && sdk_buf_size(b) == (size_t)(1u << 20) - (size_t)i);
        memset(sdk_buf_data(b), i, sdk_buf_size(b));
        sdk_buf_unref(&b);
        CHECK(b == NULL);
    }
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(allocs == 1 && bytes == 1u << 20);

    /* Several at once: a window of 4 needs 4, and only 4. */
    for (int round = 0; round < 10; round++) {
        sdk_buf *w[4];
        for (int i = 0; i < 4; i++)
            w[i] = sdk_buf_get(p, 1u << 20);
        for (int i = 0; i < 4; i++)
            sdk_buf_unref(&w[i]);
    }
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(allocs == 4 && bytes == 4u << 20);

    /* The smallest that fits: with 1 MiB and 4 MiB kept, a 2 MiB frame takes the 4 MiB one,
     * a 100 KiB frame a 1 MiB one. */
    sdk_buf *big = sdk_buf_get(p, 4u << 20);
    sdk_buf_unref(&big);
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(allocs == 5);
    sdk_buf *small = sdk_buf_get(p, 100u << 10);
    sdk_buf *mid = sdk_buf_get(p, 2u << 20);
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(allocs == 5);
    sdk_buf_unref(&small);
    sdk_buf_unref(&mid);

    /* The bound: 10 MiB kept at most; 8 buffers of 4 MiB come back, 2 are kept. */
    sdk_buf *many[8];
    for (int i = 0; i < 8; i++)
        many[i] = sdk_buf_get(p, 4u << 20);
    for (int i = 0; i < 8; i++)
        sdk_buf_unref(&many[i]);
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(bytes <= 10u << 20);

    /* Lent: the caller's bytes, released once when the last reference goes. */
    static uint8_t frame[1000];
    sdk_buf *lent = sdk_buf_lend(p, frame, sizeof frame, on_release, NULL);
    CHECK(sdk_buf_data(lent) == frame && sdk_buf_size(lent) == sizeof frame);
    sdk_buf *ref = sdk_buf_ref(lent);
    sdk_buf_unref(&lent);
    CHECK(releases == 0);
    sdk_buf_unref(&ref);
    CHECK(releases == 1 && released == frame);
    /* Cancelled: never released. */
    lent = sdk_buf_lend(p, frame, sizeof frame, on_release, NULL);
    sdk_buf_lend_cancel(lent);
    sdk_buf_unref(&lent);
    CHECK(releases == 1);
    sdk_bufpool_counts(p, &allocs, &bytes);
    CHECK(bytes <= 10u << 20); /* lent bytes are not the pool's */

    /* Destroy waits for a buffer another thread still holds, and its release. */
    lent = sdk_buf_lend(p, frame, sizeof frame, on_release, NULL);
    pthread_t t;
    pthread_create(&t, NULL, drop_later, lent);
    sdk_bufpool_destroy(&p);
    CHECK(releases == 2 && p == NULL);
    pthread_join(t, NULL);
    return testutil_finish("sdk_buffers_test");
}
