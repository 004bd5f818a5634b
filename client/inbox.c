/* inbox: see inbox.h. */
#include "client/inbox.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct sdk_inbox {
    pthread_mutex_t lock; /* guards everything below */
    sdk_job *head;        /* oldest job */
    sdk_job *tail;        /* newest job */
    int closed;           /* 0, or the code new jobs are refused with */
    bool stop;            /* stop asked */
    bool fail;            /* failure asked (tests) */
    bool woken;           /* the fd was written since the last take: no need again */
    int fd;               /* eventfd waking the I/O thread */
};

sdk_inbox *sdk_inbox_new(void)
{
    sdk_inbox *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (in->fd < 0) {
        free(in);
        return NULL;
    }
    pthread_mutex_init(&in->lock, NULL);
    return in;
}

void sdk_inbox_destroy(sdk_inbox **inbox)
{
    if (!inbox || !*inbox)
        return;
    close((*inbox)->fd);
    pthread_mutex_destroy(&(*inbox)->lock);
    free(*inbox);
    *inbox = NULL;
}

int sdk_inbox_fd(const sdk_inbox *in)
{
    return in->fd;
}

static void wake(sdk_inbox *in)
{
    uint64_t one = 1;
    /* Only fails when the counter would overflow, and then the thread is awake anyway. */
    if (write(in->fd, &one, sizeof one) < 0)
        return;
}

/* Whether a push must write the fd: only the first since the I/O thread last took, as the
 * thread takes everything at once. Called with the lock held. */
static bool needs_wake(sdk_inbox *in)
{
    bool first = !in->woken;
    in->woken = true;
    return first;
}

int sdk_inbox_push_chain(sdk_inbox *in, sdk_job *first, sdk_job *last)
{
    pthread_mutex_lock(&in->lock);
    if (first->op != SDK_OP_LOCAL_DONE && in->closed) {
        int code = in->closed;
        pthread_mutex_unlock(&in->lock);
        return code;
    }
    last->next = NULL;
    if (in->tail)
        in->tail->next = first;
    else
        in->head = first;
    in->tail = last;
    bool wake_it = needs_wake(in);
    pthread_mutex_unlock(&in->lock);
    if (wake_it)
        wake(in);
    return P2C2R_OK;
}

int sdk_inbox_push(sdk_inbox *in, sdk_job *job)
{
    return sdk_inbox_push_chain(in, job, job);
}

void sdk_inbox_close(sdk_inbox *in, int code)
{
    pthread_mutex_lock(&in->lock);
    in->closed = code;
    pthread_mutex_unlock(&in->lock);
}

void sdk_inbox_ask_stop(sdk_inbox *in)
{
    pthread_mutex_lock(&in->lock);
    in->stop = true;
    bool wake_it = needs_wake(in);
    pthread_mutex_unlock(&in->lock);
    if (wake_it)
        wake(in);
}

void sdk_inbox_ask_fail(sdk_inbox *in)
{
    pthread_mutex_lock(&in->lock);
    in->fail = true;
    bool wake_it = needs_wake(in);
    pthread_mutex_unlock(&in->lock);
    if (wake_it)
        wake(in);
}

sdk_job *sdk_inbox_take(sdk_inbox *in, bool *stop, bool *fail)
{
    /* Read before taking: a push after the read finds woken still set and writes nothing,
     * but its job is taken below; a push after the take below writes again. */
    uint64_t count;
    if (read(in->fd, &count, sizeof count) < 0) {
        /* EAGAIN: nothing was signalled since the last take, which is fine. */
    }
    pthread_mutex_lock(&in->lock);
    sdk_job *all = in->head;
    in->head = in->tail = NULL;
    in->woken = false;
    *stop = in->stop;
    *fail = in->fail;
    in->fail = false;
    pthread_mutex_unlock(&in->lock);
    return all;
}
