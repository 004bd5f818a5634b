/* metricsutil: what the tests of metrics and `p2c2r status` share: a known run of tasks
 * through the SDK, HTTP GETs (libcurl) and JSON (json-c). */
#ifndef P2C2R_TEST_METRICSUTIL_H
#define P2C2R_TEST_METRICSUTIL_H

#include <json-c/json.h>
#include <stddef.h>

/* What a run did: tasks that came back with a result, per kind, and errors. */
typedef struct run_counts {
    int noop_ok;    /* noop results */
    int upscale_ok; /* upscale results (fast mode) */
    int errors;     /* tasks that ended with an error */
} run_counts;

/* Submit noop noop tasks and upscale upscale tasks (a real JPEG, 2x, fast) through the SDK
 * to the clients endpoint, and wait for every answer. Returns 0, or -1 if the run could not
 * be made (the SDK could not start, a submit was refused, an answer never came). */
int metricsutil_run(const char *endpoint, int noop, int upscale, run_counts *counts);

/* GET url into *body (NUL-terminated, the caller frees). Returns the HTTP status, or -1
 * when no answer came. */
long metricsutil_get(const char *url, char **body);

/* GET url and parse it as JSON; NULL on any failure. The caller puts the object. */
json_object *metricsutil_get_json(const char *url);

/* o.a.b... by keys; NULL where one is missing. */
json_object *metricsutil_path(json_object *o, const char *const *keys);

#endif /* P2C2R_TEST_METRICSUTIL_H */
