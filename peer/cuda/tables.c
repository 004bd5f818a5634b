/* tables: see tables.h. Entries are a doubly linked list in recency order: a peer sees a
 * handful of frame sizes, and a linear scan of a few names costs less than hashing.
 *
 * No CUDA call is made with the lock held. Uploads may synchronise the uploading stream
 * (a copy from pageable memory does), cudaFree waits for the device, and a host function
 * queued by peer_cuda_tables_put_after() takes the lock on CUDA's own thread while its
 * stream waits for it: a CUDA call under the lock could wait for that stream, which waits
 * for the lock. Freed entries are therefore collected on a list under the lock and their
 * device memory released after it, by whichever thread comes next (never the host
 * function, where CUDA calls are not allowed).
 */
#include "tables.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

enum entry_state { ENTRY_UPLOADING, ENTRY_READY, ENTRY_FAILED };

struct peer_cuda_entry {
    char name[P2C2R_UPSCALE_NAME_MAX]; /* the plan's name: the key */
    peer_cuda_plan *plan;              /* device copy; NULL until uploaded */
    cudaEvent_t ready;                 /* recorded on `stream` after the copy */
    cudaStream_t stream;               /* the stream that uploaded it */
    size_t bytes;                      /* device bytes, counted once ready */
    uint32_t refs;                     /* holders: users and threads waiting for it */
    enum entry_state state;            /* guarded by the lock */
    int rc;                            /* error of a failed upload */
    int resident;                      /* in the list (else freed with its last ref) */
    peer_cuda_entry *prev, *next;      /* the list, most recent first; or the free list */
    peer_cuda_tables *owner;           /* for the host function of put_after */
};

struct peer_cuda_tables {
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t done;    /* an upload finished (ready or failed) */
    int device;             /* CUDA device */
    size_t max_bytes;       /* bound */
    size_t bytes;           /* resident now */
    peer_cuda_entry *head;  /* most recently used */
    peer_cuda_entry *tail;  /* least recently used */
    peer_cuda_entry *freed; /* no longer referenced nor resident: to free outside the lock */
};

peer_cuda_tables *peer_cuda_tables_new(int device, size_t max_bytes)
{
    peer_cuda_tables *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->done, NULL);
    t->device = device;
    t->max_bytes = max_bytes;
    return t;
}

static void entry_free(peer_cuda_entry *e)
{
    peer_cuda_plan_destroy(&e->plan);
    if (e->ready)
        cudaEventDestroy(e->ready);
    free(e);
}

/* Free what the free list holds. Lock not held. */
static void tables_reap(peer_cuda_tables *t)
{
    pthread_mutex_lock(&t->lock);
    peer_cuda_entry *e = t->freed;
    t->freed = NULL;
    pthread_mutex_unlock(&t->lock);
    while (e) {
        peer_cuda_entry *next = e->next;
        entry_free(e);
        e = next;
    }
}

static void list_unlink(peer_cuda_tables *t, peer_cuda_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(peer_cuda_tables *t, peer_cuda_entry *e)
{
    e->prev = NULL;
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    else
        t->tail = e;
    t->head = e;
}

/* Move to the free list. Lock held; e is neither resident nor referenced. */
static void entry_retire(peer_cuda_tables *t, peer_cuda_entry *e)
{
    e->next = t->freed;
    t->freed = e;
}

/* Take e out of the list; free it if nobody holds it. Lock held. */
static void entry_evict(peer_cuda_tables *t, peer_cuda_entry *e)
{
    list_unlink(t, e);
    e->resident = 0;
    t->bytes -= e->bytes;
    if (e->refs == 0)
        entry_retire(t, e);
}

/* Drop one reference. Lock held. */
static void entry_unref(peer_cuda_tables *t, peer_cuda_entry *e)
{
    assert(e->refs > 0);
    if (--e->refs == 0 && !e->resident)
        entry_retire(t, e);
}

void peer_cuda_tables_destroy(peer_cuda_tables **tables)
{
    if (!tables || !*tables)
        return;
    peer_cuda_tables *t = *tables;
    *tables = NULL;
    pthread_mutex_lock(&t->lock);
    while (t->head) {
        assert(t->head->refs == 0);
        entry_evict(t, t->head);
    }
    pthread_mutex_unlock(&t->lock);
    tables_reap(t);
    pthread_cond_destroy(&t->done);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Upload e's plan on stream and record its event. No lock held. */
static int entry_upload(peer_cuda_entry *e, const p2c2r_upscale_plan *plan, cudaStream_t stream)
{
    int rc = peer_cuda_plan_upload(plan, stream, &e->plan);
    if (rc != P2C2R_OK)
        return rc;
    cudaError_t err = cudaEventCreateWithFlags(&e->ready, cudaEventDisableTiming);
    if (err == cudaSuccess)
        err = cudaEventRecord(e->ready, stream);
    if (err != cudaSuccess)
        return cuk_fail("tables: event", err);
    e->stream = stream;
    return P2C2R_OK;
}

int peer_cuda_tables_get(peer_cuda_tables *t, const p2c2r_upscale_plan *plan, cudaStream_t stream,
                         peer_cuda_entry **entry, peer_cuda_get_info *info)
{
    *entry = NULL;
    peer_cuda_get_info dummy;
    if (!info)
        info = &dummy;
    info->uploaded = 0;
    info->upload_ns = 0;
    tables_reap(t);
    cudaError_t err = cudaSetDevice(t->device);
    if (err != cudaSuccess)
        return cuk_fail("tables: cudaSetDevice", err);
    const char *name = p2c2r__upscale_plan_name(plan);

    pthread_mutex_lock(&t->lock);
    peer_cuda_entry *e = t->head;
    while (e && strcmp(e->name, name) != 0)
        e = e->next;
    if (e) {
        e->refs++;
        list_unlink(t, e);
        list_push_front(t, e);
        while (e->state == ENTRY_UPLOADING)
            pthread_cond_wait(&t->done, &t->lock);
        int rc = e->state == ENTRY_FAILED ? e->rc : P2C2R_OK;
        if (rc != P2C2R_OK)
            entry_unref(t, e);
        pthread_mutex_unlock(&t->lock);
        if (rc != P2C2R_OK)
            return rc;
        if (e->stream != stream &&
            (err = cudaStreamWaitEvent(stream, e->ready, 0)) != cudaSuccess) {
            peer_cuda_tables_put(t, &e);
            return cuk_fail("tables: cudaStreamWaitEvent", err);
        }
        *entry = e;
        return P2C2R_OK;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&t->lock);
        return P2C2R_E_NOMEM;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    e->refs = 1;
    e->state = ENTRY_UPLOADING;
    e->resident = 1;
    e->owner = t;
    list_push_front(t, e);
    pthread_mutex_unlock(&t->lock);

    uint64_t t0 = now_ns();
    int rc = entry_upload(e, plan, stream);
    info->upload_ns = now_ns() - t0;
    info->uploaded = rc == P2C2R_OK;

    pthread_mutex_lock(&t->lock);
    if (rc != P2C2R_OK) {
        e->state = ENTRY_FAILED;
        e->rc = rc;
        if (e->resident)
            entry_evict(t, e);
        entry_unref(t, e);
    } else {
        e->state = ENTRY_READY;
        if (e->resident) {
            e->bytes = peer_cuda_plan_bytes(e->plan);
            t->bytes += e->bytes;
            if (e->bytes > t->max_bytes)
                entry_evict(t, e);
        }
        while (t->bytes > t->max_bytes && t->tail && t->tail != e)
            entry_evict(t, t->tail);
    }
    pthread_cond_broadcast(&t->done);
    pthread_mutex_unlock(&t->lock);
    tables_reap(t);
    if (rc == P2C2R_OK)
        *entry = e;
    return rc;
}

const peer_cuda_plan *peer_cuda_entry_plan(const peer_cuda_entry *entry)
{
    return entry->plan;
}

void peer_cuda_tables_put(peer_cuda_tables *t, peer_cuda_entry **entry)
{
    if (!entry || !*entry)
        return;
    pthread_mutex_lock(&t->lock);
    entry_unref(t, *entry);
    pthread_mutex_unlock(&t->lock);
    *entry = NULL;
    tables_reap(t);
}

/* The host function of put_after: on CUDA's thread, where no CUDA call may be made. */
static void CUDART_CB entry_put_host(void *arg)
{
    peer_cuda_entry *e = arg;
    peer_cuda_tables *t = e->owner;
    pthread_mutex_lock(&t->lock);
    entry_unref(t, e);
    pthread_mutex_unlock(&t->lock);
}

void peer_cuda_tables_put_after(peer_cuda_tables *t, peer_cuda_entry **entry, cudaStream_t stream)
{
    if (!entry || !*entry)
        return;
    peer_cuda_entry *e = *entry;
    *entry = NULL;
    cudaError_t err = cudaLaunchHostFunc(stream, entry_put_host, e);
    if (err != cudaSuccess) {
        cuk_fail("tables: cudaLaunchHostFunc", err);
        cudaStreamSynchronize(stream);
        peer_cuda_tables_put(t, &e);
    }
}

size_t peer_cuda_tables_list(peer_cuda_tables *t, char (*names)[P2C2R_UPSCALE_NAME_MAX], size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    for (peer_cuda_entry *e = t->head; e; e = e->next, n++)
        if (n < max)
            memcpy(names[n], e->name, P2C2R_UPSCALE_NAME_MAX);
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t peer_cuda_tables_bytes(peer_cuda_tables *t)
{
    pthread_mutex_lock(&t->lock);
    size_t b = t->bytes;
    pthread_mutex_unlock(&t->lock);
    return b;
}
