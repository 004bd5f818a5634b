/* p2c2r-fakepeer: a peer that misbehaves on purpose, for integration tests.
 *
 * It speaks the wire protocol (proto/p2c2r.proto) well enough to register, heartbeat and
 * register again when the coordinator does not know it, and then does the wrong thing
 * with every task it is given:
 *   silent  accepts tasks and never answers (heartbeats go on)
 *   fail    answers every task with ERROR P2C2R_E_INTERNAL, at once
 *   busy    answers every task with ERROR P2C2R_E_BUSY, at once
 *   liar    answers every task with ERROR P2C2R_E_BADINPUT, at once
 *   wrong   answers with results of the wrong shape, in turn: garbage bytes, no payload,
 *           an unknown codec, the input's own size, an unknown status code, an ERROR with
 *           status 0, a RESULT with an error status, a header that lies about the size
 *           (--variant K keeps to the K-th of them, 0..7)
 *   forge   answers upscale tasks (JPEG in, JPEG out) with plausible wrong frames: the real
 *           upscale, encoded as a real peer encodes it, with the top half of the luma
 *           brightened — a valid JPEG of the right size, codec and layout, with the wrong
 *           pixels. With --forge-every N only every N-th task is forged and the others
 *           are answered honestly; it reports the same CPU kernels as a real peer here.
 * Its heartbeats carry no load report, as a peer written without one would send.
 *
 *   p2c2r-fakepeer --coordinator EP --mode MODE [--variant K] [--slots N] [--name NAME]
 *                  [--forge-every N]
 *                  [--heartbeat-ms MS]
 * Prints "p2c2r-fakepeer ready" once connected; exits 0 on SIGTERM/SIGINT.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/image.h"
#include "common/jpegband.h"
#include "common/random.h"
#include "common/task.h"
#include "common/upscale/upscale.h"

typedef enum fake_mode {
    FAKE_SILENT,
    FAKE_FAIL,
    FAKE_BUSY,
    FAKE_LIAR,
    FAKE_WRONG,
    FAKE_FORGE
} fake_mode;

#define WRONG_VARIANTS 8

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

typedef struct fake {
    void *sock;           /* DEALER to the coordinator */
    fake_mode mode;       /* how to misbehave */
    const char *name;     /* for the coordinator's logs */
    uint32_t slots;       /* what it claims */
    uint64_t sender;      /* its random id */
    uint64_t instance;    /* the coordinator's, last heard */
    uint64_t last_hello;  /* when it last said hello */
    unsigned turn;        /* next wrong variant */
    int variant;          /* the only wrong variant to use, or -1 for all in turn */
    p2c2r_jpeg *jpeg;     /* to read input headers */
    uint32_t forge_every; /* forge: every how many tasks a frame is forged */
    uint64_t answered;    /* forge: tasks answered */
} fake;

static void send_env(fake *f, p2c2r_envelope *env, const void *data, size_t size, bool payload)
{
    env->sender = f->sender;
    zmq_msg_t msg;
    zmq_msg_init_size(&msg, size);
    if (size)
        memcpy(zmq_msg_data(&msg), data, size);
    p2c2r__envelope_send(f->sock, NULL, 0, env, payload ? &msg : NULL, ZMQ_DONTWAIT);
    zmq_msg_close(&msg);
}

static void hello(fake *f)
{
    char *kinds[] = {"upscale", "noop"};
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    info.name = (char *)f->name;
    info.kinds = kinds;
    info.n_kinds = 2;
    info.slots = f->slots;
    info.cpu_cores = 1;
    info.runtime = "cpu";
    if (f->mode == FAKE_FORGE) /* looks like any peer here */
        info.simd = (char *)p2c2r__upscale_simd_name(p2c2r__upscale_simd());
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.peer = &info;
    send_env(f, &env, NULL, 0, false);
    f->last_hello = p2c2r__now_us();
}

static void answer_error(fake *f, const p2c2r_envelope *in, int status, const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.instance = in->instance;
    env.task_id = in->task_id;
    env.status = status;
    env.detail = (char *)detail;
    send_env(f, &env, NULL, 0, false);
}

/* One of the wrong answers, in turn. */
static void answer_wrong(fake *f, const p2c2r_envelope_msg *msg)
{
    const p2c2r_envelope *in = msg->env;
    const void *input = zmq_msg_data((zmq_msg_t *)&msg->payload);
    size_t input_size = zmq_msg_size((zmq_msg_t *)&msg->payload);
    uint32_t w = 64, h = 64, scale = in->upscale ? in->upscale->scale : 1;
    p2c2r_pixel_format format = P2C2R_PIX_YUV420P;
    if (in->frame && in->frame->codec == P2C2R__WIRE__CODEC__CODEC_JPEG)
        p2c2r__jpeg_header(f->jpeg, input, input_size, &w, &h, &format);
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    frame.pixel_format = (P2c2r__Wire__PixelFormat)format;
    frame.width = w * scale;
    frame.height = h * scale;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.instance = in->instance;
    env.task_id = in->task_id;
    env.frame = &frame;
    static const char garbage[] = "\xff\xd8 this is not the picture you asked for";
    switch (f->variant >= 0 ? (unsigned)f->variant : f->turn++ % WRONG_VARIANTS) {
    case 0: /* garbage bytes, described as the right JPEG */
        send_env(f, &env, garbage, sizeof garbage, true);
        break;
    case 1: /* no payload at all */
        send_env(f, &env, NULL, 0, false);
        break;
    case 2: /* a codec nobody knows */
        frame.codec = (P2c2r__Wire__Codec)99;
        send_env(f, &env, garbage, sizeof garbage, true);
        break;
    case 3: /* the input sent back: a real JPEG of the input's own size */
        frame.width = w;
        frame.height = h;
        send_env(f, &env, input, input_size, true);
        break;
    case 4: /* an error code that does not exist */
        answer_error(f, in, -999, "no such error");
        break;
    case 5: /* an ERROR that says all is well */
        answer_error(f, in, 0, "");
        break;
    case 6: /* a RESULT carrying an error status */
        env.status = P2C2R_E_BADINPUT;
        send_env(f, &env, input, input_size, true);
        break;
    default: /* the right size claimed, the input's header says otherwise */
        send_env(f, &env, input, input_size, true);
        break;
    }
}

/* The real upscale of a JPEG, as a peer computes and encodes it, brightened in the top
 * half of its luma when forged. P2C2R_OK with *out malloc'd. */
static int upscale(fake *f, const p2c2r_envelope *in, const void *input, size_t size, bool forged,
                   uint8_t **out, size_t *out_size, p2c2r_image *dst)
{
    const P2c2r__Wire__UpscaleParams *up = in->upscale;
    p2c2r_image src = {0};
    const p2c2r_upscale_plan *plan = NULL;
    p2c2r_mode mode = up->mode ? (p2c2r_mode)up->mode : P2C2R_MODE_FAST;
    int rc = p2c2r__jpeg_decode(f->jpeg, input, size, &src);
    if (rc == P2C2R_OK)
        rc = p2c2r__upscale_plan_new(src.format, src.width, src.height, up->scale, mode, &plan);
    uint32_t w = 0, h = 0;
    if (rc == P2C2R_OK) {
        p2c2r__upscale_plan_output(plan, &w, &h);
        rc = p2c2r__image_alloc(dst, src.format, w, h);
    }
    if (rc == P2C2R_OK)
        rc = p2c2r__upscale_image(plan, &src, dst, NULL, p2c2r__upscale_simd());
    if (rc == P2C2R_OK && forged) {
        p2c2r_plane *y = &dst->plane[0];
        for (uint32_t r = 0; r < y->height / 2; r++)
            for (uint32_t i = 0; i < y->width * y->channels; i++) {
                uint8_t *v = &y->data[(size_t)r * y->stride + i];
                *v = *v > 215 ? 255 : *v + 40;
            }
    }
    int quality = up->jpeg_quality ? (int)up->jpeg_quality : (int)P2C2R_JPEG_QUALITY_DEF;
    if (rc == P2C2R_OK)
        rc = p2c2r__jpegband_encode(dst, quality, NULL, 1, NULL, out, out_size);
    p2c2r__upscale_plan_destroy(&plan);
    p2c2r__image_free(&src);
    return rc;
}

/* An upscale task answered with the real frame, or every forge_every-th with a forged one. */
static void answer_forged(fake *f, const p2c2r_envelope_msg *msg)
{
    const p2c2r_envelope *in = msg->env;
    bool forged = ++f->answered % f->forge_every == 0;
    if (!in->upscale || !in->frame || in->frame->codec != P2C2R__WIRE__CODEC__CODEC_JPEG ||
        (in->upscale->output_codec &&
         in->upscale->output_codec != P2C2R__WIRE__CODEC__CODEC_JPEG)) {
        answer_error(f, in, P2C2R_E_UNSUPPORTED, "fake peer forges JPEG upscales only");
        return;
    }
    p2c2r_image dst = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = upscale(f, in, zmq_msg_data((zmq_msg_t *)&msg->payload),
                     zmq_msg_size((zmq_msg_t *)&msg->payload), forged, &data, &size, &dst);
    if (rc != P2C2R_OK) {
        answer_error(f, in, rc, "fake peer could not upscale");
    } else {
        P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
        frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
        frame.pixel_format = (P2c2r__Wire__PixelFormat)dst.format;
        frame.width = dst.width;
        frame.height = dst.height;
        p2c2r_envelope env;
        p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
        env.instance = in->instance;
        env.task_id = in->task_id;
        env.frame = &frame;
        send_env(f, &env, data, size, true);
        if (forged)
            fprintf(stderr, "p2c2r-fakepeer: forged frame for attempt %" PRIu64 "\n", in->task_id);
    }
    free(data);
    p2c2r__image_free(&dst);
}

static void on_message(fake *f)
{
    p2c2r_envelope_msg msg;
    if (p2c2r__envelope_recv(f->sock, false, ZMQ_DONTWAIT, &msg) != P2C2R_OK) {
        p2c2r__envelope_msg_close(&msg);
        return;
    }
    const p2c2r_envelope *in = msg.env;
    if (in->instance)
        f->instance = in->instance;
    if (in->type == P2C2R__WIRE__MSG_TYPE__ERROR && in->status == P2C2R_E_UNKNOWNPEER &&
        p2c2r__now_us() > f->last_hello + 200000u)
        hello(f);
    if (in->type == P2C2R__WIRE__MSG_TYPE__ASSIGN) {
        switch (f->mode) {
        case FAKE_SILENT:
            break;
        case FAKE_FAIL:
            answer_error(f, in, P2C2R_E_INTERNAL, "fake peer fails every task");
            break;
        case FAKE_BUSY:
            answer_error(f, in, P2C2R_E_BUSY, "fake peer is always busy");
            break;
        case FAKE_LIAR:
            answer_error(f, in, P2C2R_E_BADINPUT, "fake peer calls every input bad");
            break;
        case FAKE_WRONG:
            answer_wrong(f, &msg);
            break;
        case FAKE_FORGE:
            answer_forged(f, &msg);
            break;
        }
    }
    p2c2r__envelope_msg_close(&msg);
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *mode = NULL;
    fake f = {.name = "fake-peer", .slots = 64, .variant = -1, .forge_every = 1};
    uint32_t heartbeat_ms = 100;
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},  {"mode", required_argument, NULL, 'm'},
        {"slots", required_argument, NULL, 's'},        {"name", required_argument, NULL, 'n'},
        {"heartbeat-ms", required_argument, NULL, 'b'}, {"variant", required_argument, NULL, 'v'},
        {"forge-every", required_argument, NULL, 'f'},  {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'c')
            endpoint = optarg;
        else if (opt == 'm')
            mode = optarg;
        else if (opt == 's')
            f.slots = (uint32_t)atoi(optarg);
        else if (opt == 'n')
            f.name = optarg;
        else if (opt == 'b')
            heartbeat_ms = (uint32_t)atoi(optarg);
        else if (opt == 'v')
            f.variant = atoi(optarg) % WRONG_VARIANTS;
        else if (opt == 'f')
            f.forge_every = atoi(optarg) > 0 ? (uint32_t)atoi(optarg) : 1;
        else
            return 2;
    }
    static const char *const modes[] = {"silent", "fail", "busy", "liar", "wrong", "forge"};
    int m = -1;
    for (int i = 0; mode && i < 6; i++)
        if (strcmp(mode, modes[i]) == 0)
            m = i;
    if (!endpoint || m < 0) {
        fprintf(stderr, "usage: p2c2r-fakepeer --coordinator EP --mode "
                        "silent|fail|busy|liar|wrong|forge [--slots N] [--name NAME]\n");
        return 2;
    }
    f.mode = (fake_mode)m;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    void *ctx = zmq_ctx_new();
    f.sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(f.sock, ZMQ_LINGER, &linger, sizeof linger);
    f.sender = p2c2r__random_id();
    f.jpeg = p2c2r__jpeg_new();
    if (!f.jpeg || zmq_connect(f.sock, endpoint) != 0) {
        fprintf(stderr, "p2c2r-fakepeer: cannot connect to %s\n", endpoint);
        return 1;
    }
    hello(&f);
    printf("p2c2r-fakepeer ready mode=%s slots=%u\n", mode, f.slots);
    fflush(stdout);
    uint64_t next_beat = p2c2r__now_us() + heartbeat_ms * 1000ull;
    while (!stopping) {
        zmq_pollitem_t item = {f.sock, 0, ZMQ_POLLIN, 0};
        uint64_t now = p2c2r__now_us();
        long timeout = next_beat > now ? (long)((next_beat - now) / 1000u) + 1 : 0;
        if (zmq_poll(&item, 1, timeout) > 0)
            on_message(&f);
        if (p2c2r__now_us() >= next_beat) {
            p2c2r_envelope beat;
            p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            beat.instance = f.instance;
            send_env(&f, &beat, NULL, 0, false);
            next_beat = p2c2r__now_us() + heartbeat_ms * 1000ull;
        }
    }
    p2c2r__jpeg_destroy(&f.jpeg);
    zmq_close(f.sock);
    zmq_ctx_term(ctx);
    return 0;
}
