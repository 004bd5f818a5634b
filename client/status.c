/* status: see status.h. The page is fetched with libcurl and read with json-c; --json
 * prints it as it came (pretty-printed), the table picks the fields an operator looks at
 * first. */
#include "status.h"

#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page is small (peers are capped on it); anything bigger is not a coordinator's. */
#define STATUS_MAX_BYTES (16u << 20)
#define STATUS_TIMEOUT_S 10

static void usage(FILE *out)
{
    fprintf(out, "Usage: p2c2r status --metrics HOST:PORT [--json]\n"
                 "Show a running cluster: its peers (name, runtime, device, slots, tasks in\n"
                 "flight, the terms of their score, round trip, circuit breaker) and the\n"
                 "p50/p95/p99 latency of each kind of task, read from the coordinator's\n"
                 "status page (the coordinator must run with --metrics HOST:PORT).\n\n"
                 "  --metrics HOST:PORT  the coordinator's --metrics address\n"
                 "  --json               print the status as JSON instead of a table\n"
                 "  -h, --help           show this help\n\n"
                 "Exit status: 0 on success, 1 when the coordinator cannot be read, 2 on bad\n"
                 "usage.\n");
}

typedef struct buffer {
    char *data;
    size_t len;
} buffer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    buffer *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > STATUS_MAX_BYTES)
        return 0; /* stops the transfer with an error */
    char *data = realloc(b->data, b->len + n + 1);
    if (!data)
        return 0;
    memcpy(data + b->len, ptr, n);
    b->data = data;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* GET http://address/status into *b. */
static int fetch(const char *address, buffer *b)
{
    char url[512];
    snprintf(url, sizeof url, "http://%s/status", address);
    CURL *curl = curl_easy_init();
    if (!curl) {
        fprintf(stderr, "p2c2r: cannot start libcurl\n");
        return -1;
    }
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)STATUS_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "p2c2r: cannot read %s: %s\n", url,
                error[0] ? error : curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

static json_object *field(json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = field(o, key);
    return v ? json_object_get_string(v) : "?";
}

static double num(json_object *o, const char *key)
{
    json_object *v = field(o, key);
    return v ? json_object_get_double(v) : 0;
}

static void quantiles(json_object *kind, const char *key, char *out, size_t size)
{
    json_object *q = field(kind, key);
    snprintf(out, size, "%.1f/%.1f/%.1f", num(q, "p50"), num(q, "p95"), num(q, "p99"));
}

static void print_table(json_object *root)
{
    json_object *tasks = field(root, "tasks");
    printf("coordinator %s, up %.0f s\n", str(root, "instance"), num(root, "uptime_s"));
    printf("tasks: admitted %.0f, ok %.0f, errors %.0f, queued %.0f, running %.0f, retries %.0f, "
           "cache hits %.0f\n\n",
           num(tasks, "admitted"), num(tasks, "ok"), num(tasks, "errors"), num(tasks, "queued"),
           num(tasks, "running"), num(tasks, "retries"), num(tasks, "cache_hits"));
    json_object *peers = field(root, "peers");
    size_t np = peers ? json_object_array_length(peers) : 0;
    printf("peers: %.0f connected%s\n", num(root, "peers_total"),
           np < (size_t)num(root, "peers_total") ? " (the first listed)" : "");
    printf("%-20s %-7s %-24s %5s %7s %9s %7s %5s %8s %8s %-9s\n", "PEER", "RUNTIME", "DEVICE",
           "SLOTS", "ALLOWED", "IN_FLIGHT", "SUCCESS", "LOAD", "RTT_TERM", "RTT_MS", "BREAKER");
    for (size_t i = 0; i < np; i++) {
        json_object *p = json_object_array_get_idx(peers, i);
        json_object *score = field(p, "score");
        printf("%-20.20s %-7s %-24.24s %5.0f %7.0f %9.0f %7.3f %5.2f %8.3f %8.3f %-9s\n",
               str(p, "name"), str(p, "runtime"), str(p, "device"), num(p, "slots"),
               num(p, "allowed"), num(p, "in_flight"), num(score, "success"), num(score, "load"),
               num(score, "rtt"), num(p, "rtt_ms"), str(p, "breaker"));
    }
    json_object *kinds = field(root, "kinds");
    size_t nk = kinds ? json_object_array_length(kinds) : 0;
    printf("\nlatency in ms, p50/p95/p99 (from histogram buckets)\n");
    printf("%-8s %-8s %8s %7s %-20s %-20s %-20s\n", "KIND", "MODE", "OK", "ERRORS", "END_TO_END",
           "QUEUE", "PEER");
    for (size_t i = 0; i < nk; i++) {
        json_object *k = json_object_array_get_idx(kinds, i);
        char e2e[64], queue[64], peer[64];
        quantiles(k, "e2e_ms", e2e, sizeof e2e);
        quantiles(k, "queue_ms", queue, sizeof queue);
        quantiles(k, "peer_ms", peer, sizeof peer);
        const char *mode = str(k, "mode");
        printf("%-8s %-8s %8.0f %7.0f %-20s %-20s %-20s\n", str(k, "kind"), mode[0] ? mode : "-",
               num(k, "ok"), num(k, "errors"), e2e, queue, peer);
    }
}

int cli_status_main(int argc, char **argv)
{
    const char *address = NULL;
    int json = 0;
    static const struct option options[] = {
        {"metrics", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'm':
            address = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!address || optind < argc) {
        fprintf(stderr,
                address ? "p2c2r: unexpected argument '%s'\n"
                        : "p2c2r: status needs --metrics HOST:PORT\n",
                optind < argc ? argv[optind] : "");
        usage(stderr);
        return 2;
    }
    if (strstr(address, "://")) {
        fprintf(stderr, "p2c2r: --metrics takes HOST:PORT (the coordinator's --metrics), not "
                        "a ZeroMQ endpoint\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    buffer b = {0};
    int rc = fetch(address, &b);
    json_object *root = NULL;
    if (rc == 0) {
        root = json_tokener_parse(b.data ? b.data : "");
        if (!root || !field(root, "peers") || !field(root, "kinds")) {
            fprintf(stderr, "p2c2r: %s/status is not a coordinator's status page\n", address);
            rc = -1;
        }
    }
    if (rc == 0 && json)
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
    else if (rc == 0)
        print_table(root);
    json_object_put(root);
    free(b.data);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
