/* status_test: `p2c2r status` against a running cluster. A coordinator with --metrics and
 * two peers of known names and slots run a known number of noop and upscale tasks; then
 * `p2c2r status --json` must list exactly those peers (name, runtime, slots, nothing in
 * flight, breaker closed) and count per kind exactly the tasks that came back, with
 * p50 <= p95 <= p99; the table form must name both peers and both kinds. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "metricsutil.h"
#include "testutil.h"

#define NOOP    40
#define UPSCALE 6
/* Pages are rendered every 100 ms: a page that does not show the run yet is read again,
 * this many times at most. */
#define TRIES   300

/* Run the CLI with args and return its stdout (the caller frees), or NULL. */
static char *run_cli(const char *address, bool json)
{
    const char *bin = getenv("P2C2R_CLI_BIN");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s status --metrics %s%s", bin ? bin : "p2c2r", address,
             json ? " --json" : "");
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while (out && (n = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *more = realloc(out, cap *= 2);
            if (!more) {
                free(out);
                out = NULL;
            }
            out = more;
        }
    }
    int status = pclose(f);
    if (out)
        out[len] = '\0';
    if (status != 0) {
        fprintf(stderr, "status_test: '%s' exited with %d\n", cmd, status);
        free(out);
        return NULL;
    }
    return out;
}

static json_object *kind_entry(json_object *root, const char *kind)
{
    json_object *kinds = metricsutil_path(root, (const char *[]){"kinds", NULL});
    for (size_t i = 0; kinds && i < json_object_array_length(kinds); i++) {
        json_object *k = json_object_array_get_idx(kinds, i);
        json_object *name = metricsutil_path(k, (const char *[]){"kind", NULL});
        if (name && strcmp(json_object_get_string(name), kind) == 0)
            return k;
    }
    return NULL;
}

static int int_at(json_object *o, const char *const *keys)
{
    json_object *v = metricsutil_path(o, keys);
    return v ? json_object_get_int(v) : -1;
}

int main(void)
{
    cluster c = {0};
    char address[80];
    snprintf(address, sizeof address, "%s:0", cluster_host());
    const char *coord_args[] = {"--metrics", address, NULL};
    const char *peer_a[] = {"--name", "status-a", "--slots", "2", "--threads", "1", NULL};
    const char *peer_b[] = {"--name", "status-b", "--slots", "3", "--threads", "1", NULL};
    if (cluster_start_coordinator(&c, coord_args) || cluster_add_peer(&c, peer_a) < 0 ||
        cluster_add_peer(&c, peer_b) < 0) {
        cluster_stop(&c);
        return 1;
    }
    CHECK(c.metrics_address[0] != '\0');
    run_counts run;
    CHECK(metricsutil_run(c.client_endpoint, NOOP, UPSCALE, &run) == 0);
    CHECK(run.noop_ok + run.upscale_ok + run.errors == NOOP + UPSCALE);

    json_object *root = NULL;
    for (int i = 0; i < TRIES; i++) {
        json_object_put(root);
        char *out = run_cli(c.metrics_address, true);
        root = out ? json_tokener_parse(out) : NULL;
        free(out);
        if (root &&
            int_at(root, (const char *[]){"tasks", "ok", NULL}) == run.noop_ok + run.upscale_ok &&
            int_at(root, (const char *[]){"tasks", "running", NULL}) == 0)
            break;
        usleep(100 * 1000);
    }
    CHECK(root != NULL);
    CHECK(int_at(root, (const char *[]){"tasks", "admitted", NULL}) == NOOP + UPSCALE);
    CHECK(int_at(root, (const char *[]){"tasks", "ok", NULL}) == run.noop_ok + run.upscale_ok);
    CHECK(int_at(root, (const char *[]){"tasks", "errors", NULL}) == run.errors);
    CHECK(int_at(root, (const char *[]){"peers_total", NULL}) == 2);

    json_object *peers = metricsutil_path(root, (const char *[]){"peers", NULL});
    CHECK(peers && json_object_array_length(peers) == 2);
    int seen = 0;
    for (size_t i = 0; peers && i < json_object_array_length(peers); i++) {
        json_object *p = json_object_array_get_idx(peers, i);
        const char *name =
            json_object_get_string(metricsutil_path(p, (const char *[]){"name", NULL}));
        int slots = int_at(p, (const char *[]){"slots", NULL});
        if (name && strcmp(name, "status-a") == 0 && slots == 2)
            seen |= 1;
        if (name && strcmp(name, "status-b") == 0 && slots == 3)
            seen |= 2;
        CHECK(strcmp(json_object_get_string(metricsutil_path(p, (const char *[]){"runtime", NULL})),
                     "cpu") == 0);
        CHECK(strcmp(json_object_get_string(metricsutil_path(p, (const char *[]){"breaker", NULL})),
                     "closed") == 0);
        CHECK(int_at(p, (const char *[]){"in_flight", NULL}) == 0);
        CHECK(metricsutil_path(p, (const char *[]){"score", "load", NULL}) != NULL);
        CHECK(metricsutil_path(p, (const char *[]){"rtt_ms", NULL}) != NULL);
    }
    CHECK(seen == 3);

    /* Per kind: exactly the results the run got, and ordered quantiles. */
    static const char *const kinds[] = {"noop", "upscale"};
    int expect[] = {run.noop_ok, run.upscale_ok};
    for (int k = 0; k < 2; k++) {
        json_object *e = kind_entry(root, kinds[k]);
        CHECK(e != NULL);
        CHECK(int_at(e, (const char *[]){"ok", NULL}) == expect[k]);
        json_object *q = metricsutil_path(e, (const char *[]){"e2e_ms", NULL});
        double p50 = json_object_get_double(metricsutil_path(q, (const char *[]){"p50", NULL}));
        double p95 = json_object_get_double(metricsutil_path(q, (const char *[]){"p95", NULL}));
        double p99 = json_object_get_double(metricsutil_path(q, (const char *[]){"p99", NULL}));
        CHECK(p50 > 0 && p50 <= p95 && p95 <= p99);
    }
    json_object_put(root);

    char *table = run_cli(c.metrics_address, false);
    CHECK(table != NULL);
    CHECK(table && strstr(table, "status-a") && strstr(table, "status-b"));
    CHECK(table && strstr(table, "PEER") && strstr(table, "BREAKER"));
    CHECK(table && strstr(table, "\nnoop ") && strstr(table, "\nupscale "));
    if (table)
        printf("%s", table);
    free(table);
    CHECK(cluster_stop(&c) == 0);
    return testutil_finish("status");
}
