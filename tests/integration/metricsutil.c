/* metricsutil: see metricsutil.h. */
#include "metricsutil.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2c2r.h"
#include "testutil.h"

#define WAIT_MS 60000

int metricsutil_run(const char *endpoint, int noop, int upscale, run_counts *counts)
{
    *counts = (run_counts){0};
    size_t jpeg_size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &jpeg_size);
    p2c2r_client_config cfg = {.coordinator = endpoint,
                               .max_in_flight = (uint32_t)(noop + upscale + 1)};
    p2c2r_client *c = jpeg ? p2c2r_client_new(&cfg, NULL) : NULL;
    int rc = c ? 0 : -1;
    uint64_t id;
    uint8_t small[64] = {1, 2, 3};
    for (int i = 0; rc == 0 && i < noop; i++)
        if (p2c2r_submit_noop(c, small, sizeof small, 30000, &id) != P2C2R_OK)
            rc = -1;
    p2c2r_upscale_desc d = {
        .codec = P2C2R_CODEC_JPEG, .scale = 2, .mode = P2C2R_MODE_FAST, .deadline_ms = 30000};
    for (int i = 0; rc == 0 && i < upscale; i++)
        if (p2c2r_submit_upscale(c, &d, jpeg, jpeg_size, &id) != P2C2R_OK)
            rc = -1;
    for (int got = 0; rc == 0 && got < noop + upscale; got++) {
        p2c2r_result *r;
        if (p2c2r_poll(c, WAIT_MS, &r) != P2C2R_OK) {
            fprintf(stderr, "metricsutil: an answer did not come\n");
            rc = -1;
            break;
        }
        if (p2c2r_result_status(r) != P2C2R_OK)
            counts->errors++;
        else if (p2c2r_result_width(r)) /* only an upscale result describes a frame */
            counts->upscale_ok++;
        else
            counts->noop_ok++;
        p2c2r_result_free(&r);
    }
    p2c2r_client_destroy(&c);
    free(jpeg);
    return rc;
}

typedef struct buffer {
    char *data;
    size_t len;
} buffer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    buffer *b = arg;
    size_t n = size * nmemb;
    char *data = realloc(b->data, b->len + n + 1);
    if (!data)
        return 0;
    memcpy(data + b->len, ptr, n);
    b->data = data;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

long metricsutil_get(const char *url, char **body)
{
    buffer b = {0};
    CURL *curl = curl_easy_init();
    if (!curl)
        return -1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long code = -1;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    if (code < 0 || !b.data) {
        free(b.data);
        b.data = NULL;
    }
    *body = b.data;
    return code;
}

json_object *metricsutil_get_json(const char *url)
{
    char *body;
    long code = metricsutil_get(url, &body);
    json_object *o = code == 200 && body ? json_tokener_parse(body) : NULL;
    free(body);
    return o;
}

json_object *metricsutil_path(json_object *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        if (!json_object_object_get_ex(o, *keys, &o))
            return NULL;
    return o;
}
