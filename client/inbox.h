/* inbox: how other threads hand jobs to the I/O thread.
 *
 * A list guarded by a mutex (held to link one job, or to take the whole list) and an
 * eventfd that wakes the I/O thread's poll. Any number of threads push (game threads
 * submitting, the fallback's threads handing jobs back); only the I/O thread takes. Unlike
 * an inproc socket it needs no lock around a socket shared by game threads, it can be
 * closed atomically (a submit after the I/O thread failed is refused, never lost), and
 * taking everything at once costs one lock per wake-up, not one per job. Only the first
 * push after a take writes the eventfd: the ones behind it ride on the same wake-up.
 */
#ifndef P2C2R_CLIENT_INBOX_H
#define P2C2R_CLIENT_INBOX_H

#include <stdbool.h>

#include "client/job.h"

typedef struct sdk_inbox sdk_inbox;

/* NULL when out of memory or file descriptors. */
sdk_inbox *sdk_inbox_new(void);
/* Frees the inbox; jobs still in it are the caller's to take first. Accepts NULL; sets
 * *inbox to NULL. */
void sdk_inbox_destroy(sdk_inbox **inbox);

/* The file descriptor to poll for input (readable when something was pushed or asked). */
int sdk_inbox_fd(const sdk_inbox *inbox);

/* Hand over a job (job->op says why). A new job (SDK_OP_SUBMIT) or a cancel request is
 * refused with the inbox's close code once it is closed; a job handed back is always
 * taken. */
int sdk_inbox_push(sdk_inbox *inbox, sdk_job *job);
/* The same for jobs first..last, linked by next and all with the same op, handed over at
 * once: the I/O thread takes them together. */
int sdk_inbox_push_chain(sdk_inbox *inbox, sdk_job *first, sdk_job *last);
/* Refuse new jobs from now on with code. */
void sdk_inbox_close(sdk_inbox *inbox, int code);

/* Ask the I/O thread to stop, or (for tests) to fail as if its network had. */
void sdk_inbox_ask_stop(sdk_inbox *inbox);
void sdk_inbox_ask_fail(sdk_inbox *inbox);

/* I/O thread: everything pushed so far, oldest first (NULL when none), and what was asked.
 * Clears the wake-up. */
sdk_job *sdk_inbox_take(sdk_inbox *inbox, bool *stop, bool *fail);

#endif /* P2C2R_CLIENT_INBOX_H */
