/* metrics_test: a real Prometheus server scrapes a real cluster. A coordinator and two
 * peers run with --metrics on this test's loopback address; Prometheus (Debian's package)
 * is started on the same address with a generated configuration that scrapes all three
 * every 200 ms. A known number of noop and upscale tasks go through the SDK; then,
 * through Prometheus's HTTP API (/api/v1/query), the coordinator's count of ended tasks
 * must equal what the run got back, in all and per kind and status, and the peers' own
 * counts must account for every result. Prometheus is always stopped and its data
 * directory removed. Skips (77) only when the prometheus binary cannot run at all. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "metricsutil.h"
#include "testutil.h"

#define NOOP    60
#define UPSCALE 8
/* Prometheus is asked again every 200 ms until its answer shows the run, at most this
 * many times (a minute): a scrape interval is 200 ms, but the machine is shared. */
#define TRIES   300

static pid_t prometheus_pid;
static char data_dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (prometheus_pid > 0) {
        kill(prometheus_pid, SIGTERM);
        waitpid(prometheus_pid, NULL, 0);
        prometheus_pid = 0;
    }
    if (data_dir[0]) {
        nftw(data_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        data_dir[0] = '\0';
    }
}

/* Whether bin runs at all (`prometheus --version`). */
static bool runs(const char *bin)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' --version >/dev/null 2>&1", bin);
    return system(cmd) == 0;
}

/* A free TCP port on host (the kernel's pick, released at once for Prometheus). */
static int free_port(const char *host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, host, &sa.sin_addr);
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int start_prometheus(const char *bin, const cluster *c, char *api, size_t api_size)
{
    snprintf(data_dir, sizeof data_dir, "/tmp/p2c2r-prometheus-XXXXXX");
    if (!mkdtemp(data_dir)) {
        data_dir[0] = '\0';
        return -1;
    }
    char config[128], storage[128], listen[96];
    snprintf(config, sizeof config, "%s/prometheus.yml", data_dir);
    snprintf(storage, sizeof storage, "--storage.tsdb.path=%s/data", data_dir);
    int port = free_port(cluster_host());
    snprintf(listen, sizeof listen, "--web.listen-address=%s:%d", cluster_host(), port);
    FILE *f = fopen(config, "w");
    if (!f || port < 0)
        return -1;
    fprintf(f,
            "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n"
            "scrape_configs:\n"
            "  - job_name: coordinator\n    static_configs:\n      - targets: ['%s']\n"
            "  - job_name: peers\n    static_configs:\n      - targets: ['%s', '%s']\n",
            c->metrics_address, c->peer_metrics[0], c->peer_metrics[1]);
    fclose(f);
    char config_flag[160];
    snprintf(config_flag, sizeof config_flag, "--config.file=%s", config);
    pid_t parent = getpid();
    prometheus_pid = fork();
    if (prometheus_pid < 0)
        return -1;
    if (prometheus_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        execl(bin, bin, config_flag, storage, listen, "--log.level=warn", (char *)NULL);
        _exit(127);
    }
    snprintf(api, api_size, "http://%s:%d", cluster_host(), port);
    char url[160];
    snprintf(url, sizeof url, "%s/-/ready", api);
    for (int i = 0; i < TRIES; i++) {
        char *body;
        long code = metricsutil_get(url, &body);
        free(body);
        if (code == 200)
            return 0;
        if (waitpid(prometheus_pid, NULL, WNOHANG) == prometheus_pid) {
            prometheus_pid = 0;
            fprintf(stderr, "metrics_test: prometheus exited\n");
            return -1;
        }
        usleep(200 * 1000);
    }
    fprintf(stderr, "metrics_test: prometheus never became ready\n");
    return -1;
}

/* The value of a PromQL query whose answer is one sample, or -1 (no sample, error). */
static double query(const char *api, const char *promql)
{
    CURL *curl = curl_easy_init();
    char *q = curl ? curl_easy_escape(curl, promql, 0) : NULL;
    char url[1024];
    snprintf(url, sizeof url, "%s/api/v1/query?query=%s", api, q ? q : "");
    curl_free(q);
    curl_easy_cleanup(curl);
    json_object *root = metricsutil_get_json(url);
    json_object *result = metricsutil_path(root, (const char *[]){"data", "result", NULL});
    double v = -1;
    if (result && json_object_array_length(result) == 1) {
        json_object *value =
            metricsutil_path(json_object_array_get_idx(result, 0), (const char *[]){"value", NULL});
        if (value && json_object_array_length(value) == 2)
            v = strtod(json_object_get_string(json_object_array_get_idx(value, 1)), NULL);
    }
    json_object_put(root);
    return v;
}

/* Ask until the query gives want (Prometheus may not have scraped the last figures yet);
 * returns what it gave last. */
static double query_until(const char *api, const char *promql, double want)
{
    double v = -1;
    for (int i = 0; i < TRIES; i++) {
        v = query(api, promql);
        if (v == want)
            break;
        usleep(200 * 1000);
    }
    printf("%s = %g (want %g)\n", promql, v, want);
    return v;
}

int main(void)
{
    const char *bin = getenv("P2C2R_PROMETHEUS_BIN");
    if (!bin || !bin[0] || !runs(bin)) {
        fprintf(stderr, "metrics_test: no runnable prometheus binary; skipped\n");
        return 77;
    }
    atexit(teardown);
    cluster c = {0};
    char address[80];
    snprintf(address, sizeof address, "%s:0", cluster_host());
    const char *coord_args[] = {"--metrics", address, NULL};
    const char *peer_a[] = {"--name", "prom-a",    "--slots", "2", "--threads",
                            "1",      "--metrics", address,   NULL};
    const char *peer_b[] = {"--name", "prom-b",    "--slots", "2", "--threads",
                            "1",      "--metrics", address,   NULL};
    if (cluster_start_coordinator(&c, coord_args) || cluster_add_peer(&c, peer_a) < 0 ||
        cluster_add_peer(&c, peer_b) < 0) {
        cluster_stop(&c);
        return 1;
    }
    char api[128];
    if (start_prometheus(bin, &c, api, sizeof api) != 0) {
        cluster_stop(&c);
        teardown();
        return 1;
    }
    CHECK(query_until(api, "sum(up)", 3) == 3); /* all three targets scraped */

    run_counts run;
    CHECK(metricsutil_run(c.client_endpoint, NOOP, UPSCALE, &run) == 0);
    int ok = run.noop_ok + run.upscale_ok;
    printf("run: %d noop and %d upscale results, %d errors\n", run.noop_ok, run.upscale_ok,
           run.errors);
    CHECK(ok > 0);

    CHECK(query_until(api, "sum(p2c2r_tasks_ended_total{job=\"coordinator\"})", NOOP + UPSCALE) ==
          NOOP + UPSCALE);
    CHECK(query_until(api, "sum(p2c2r_tasks_ended_total{status=\"ok\"})", ok) == ok);
    CHECK(query_until(api, "sum(p2c2r_tasks_ended_total{kind=\"noop\",status=\"ok\"})",
                      run.noop_ok) == run.noop_ok);
    CHECK(query_until(api,
                      "sum(p2c2r_tasks_ended_total{kind=\"upscale\",mode=\"fast\",status=\"ok\"})",
                      run.upscale_ok) == run.upscale_ok);
    CHECK(query_until(api, "p2c2r_tasks_admitted_total", NOOP + UPSCALE) == NOOP + UPSCALE);
    CHECK(query_until(api, "sum(p2c2r_task_duration_seconds_count)", NOOP + UPSCALE) ==
          NOOP + UPSCALE);
    CHECK(query_until(api, "sum(p2c2r_peer_connected)", 2) == 2);
    /* The peers' own figures: every result the run got was made by one of them (a retried
     * task may have run twice, so at least). */
    double by_peers = query_until(
        api, "sum(p2c2r_peer_tasks_total{job=\"peers\",status=\"ok\",kind=~\"noop|upscale\"})", ok);
    CHECK(by_peers >= ok);
    CHECK(query_until(api, "sum(p2c2r_peer_slots{job=\"peers\"})", 4) == 4);
    double p99 = query(api, "histogram_quantile(0.99, sum by (le) "
                            "(p2c2r_task_duration_seconds_bucket{kind=\"noop\"}))");
    printf("noop end-to-end p99 per Prometheus: %.4f s\n", p99);
    CHECK(p99 > 0);

    CHECK(cluster_stop(&c) == 0);
    teardown();
    return testutil_finish("metrics");
}
