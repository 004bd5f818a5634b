/* sdk_hello: a game's first program against the installed SDK, built out of tree by
 * install_test.sh with nothing but `pkg-config --cflags --libs p2c2r`.
 *
 * It checks the run-time version against the header's, then upscales one frame with no
 * coordinator listening: the local fallback must deliver it, 2x, from the library's own
 * CPU kernels. Prints "sdk_hello ok VERSION source=local WxH" and exits 0, or says what
 * went wrong and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <p2c2r.h>

#define W 64
#define H 36

int main(int argc, char **argv)
{
    const char *endpoint = argc > 1 ? argv[1] : "tcp://127.0.0.1:1";
    if (!P2C2R_VERSION_OK() || p2c2r_version() != P2C2R_VERSION) {
        fprintf(stderr, "sdk_hello: header %d, library %u (%s)\n", P2C2R_VERSION, p2c2r_version(),
                p2c2r_version_string());
        return 1;
    }
    p2c2r_client_config config = {
        .coordinator = endpoint,
        .fallback = P2C2R_FALLBACK_LOCAL,
    };
    int err = 0;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    if (!client) {
        fprintf(stderr, "sdk_hello: p2c2r_client_new: %s\n", p2c2r_strerror(err));
        return 1;
    }
    static unsigned char frame[W * H * 3 / 2];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (unsigned char)(i * 13);
    p2c2r_upscale_desc desc = {
        .codec = P2C2R_CODEC_RAW,
        .pixel_format = P2C2R_PIX_YUV420P,
        .width = W,
        .height = H,
        .scale = 2,
        .mode = P2C2R_MODE_BICUBIC,
        .output_codec = P2C2R_CODEC_RAW,
        .deadline_ms = 200,
    };
    uint64_t id = 0;
    int rc = p2c2r_submit_upscale(client, &desc, frame, sizeof frame, &id);
    p2c2r_result *r = NULL;
    if (rc == P2C2R_OK)
        rc = p2c2r_poll(client, 10000, &r);
    int status = 1;
    if (rc != P2C2R_OK) {
        fprintf(stderr, "sdk_hello: %s\n", p2c2r_strerror(rc));
    } else if (p2c2r_result_status(r) != P2C2R_OK) {
        fprintf(stderr, "sdk_hello: task ended %s: %s\n", p2c2r_errname(p2c2r_result_status(r)),
                p2c2r_result_detail(r));
    } else {
        size_t size = 0;
        p2c2r_result_data(r, &size);
        if (p2c2r_result_task_id(r) == id && p2c2r_result_source(r) == P2C2R_SOURCE_LOCAL &&
            p2c2r_result_width(r) == 2 * W && p2c2r_result_height(r) == 2 * H &&
            size == (size_t)(2 * W) * (2 * H) * 3 / 2) {
            printf("sdk_hello ok %s source=local %ux%u\n", p2c2r_version_string(),
                   p2c2r_result_width(r), p2c2r_result_height(r));
            status = 0;
        } else {
            fprintf(stderr, "sdk_hello: unexpected result: source %d, %ux%u, %zu bytes\n",
                    (int)p2c2r_result_source(r), p2c2r_result_width(r), p2c2r_result_height(r),
                    size);
        }
    }
    p2c2r_result_free(&r);
    p2c2r_client_destroy(&client);
    return status;
}
