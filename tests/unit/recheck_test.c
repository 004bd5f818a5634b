/* recheck_test: the comparison of two outputs, the verdicts of a check, and the
 * reputation rule.
 *
 * Comparison: equal bytes agree; different bytes from the same runtime and kernels never
 * do; across runtimes, decoded outputs agree at RECHECK_MIN_PSNR_DB or above (a level off
 * on some samples) and not below (a brightened half), for JPEG and raw outputs.
 * Verdicts: agreement, a disagreement settled against the second or the first answer by a
 * third, three different answers, the bound on open checks, and the draws' rate.
 * Reputation: a new identity is quarantined by its second defeat, one with full credit by
 * its fourth in a row, and agreements never lift a quarantine. */
#include "coordinator/recheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/image.h"
#include "common/task.h"
#include "coordinator/reputation.h"
#include "testutil.h"

/* A message holding a copy of data. */
static void msg_of(zmq_msg_t *m, const void *data, size_t size)
{
    zmq_msg_init_size(m, size);
    memcpy(zmq_msg_data(m), data, size);
}

/* Add delta (saturating) to every step-th luma sample of rows [0, rows). */
static void shift_luma(p2c2r_image *img, uint32_t rows, int delta, uint32_t step)
{
    p2c2r_plane *y = &img->plane[0];
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t i = 0; i < y->width; i += step) {
            int v = y->data[(size_t)r * y->stride + i] + delta;
            y->data[(size_t)r * y->stride + i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static void encode(p2c2r_jpeg *jpeg, const p2c2r_image *img, zmq_msg_t *m)
{
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK_RC(p2c2r__jpeg_encode(jpeg, img, 90, &data, &size), P2C2R_OK);
    msg_of(m, data, size);
    p2c2r__jpeg_free_buffer(data, NULL);
}

static void test_compare(p2c2r_jpeg *jpeg, const uint8_t *file, size_t file_size)
{
    p2c2r_image img = {0};
    CHECK_RC(p2c2r__jpeg_decode(jpeg, file, file_size, &img), P2C2R_OK);
    coord_output_desc desc = {P2C2R_CODEC_JPEG, img.format, img.width, img.height};
    zmq_msg_t orig, near, far;
    encode(jpeg, &img, &orig);
    shift_luma(&img, img.height, 1, 7); /* rounding-sized differences */
    encode(jpeg, &img, &near);
    shift_luma(&img, img.height / 2, 40, 1); /* a visible change */
    encode(jpeg, &img, &far);

    coord_recheck_answer cpu = {"a", P2C2R_RUNTIME_CPU, "avx2", &orig};
    coord_recheck_answer cpu_near = {"b", P2C2R_RUNTIME_CPU, "avx2", &near};
    coord_recheck_answer cuda_near = {"c", P2C2R_RUNTIME_CUDA, "", &near};
    coord_recheck_answer cuda_far = {"d", P2C2R_RUNTIME_CUDA, "", &far};
    coord_recheck_answer scalar_near = {"e", P2C2R_RUNTIME_CPU, "scalar", &near};
    coord_recheck_answer cpu_again = {"f", P2C2R_RUNTIME_CPU, "avx2", &orig};
    double db;
    CHECK(coord_recheck_same(jpeg, &desc, &cpu, &cpu_again, &db) && isinf(db));
    /* Same runtime and kernels: bytes or nothing. */
    CHECK(!coord_recheck_same(jpeg, &desc, &cpu, &cpu_near, &db));
    /* Across runtimes, or CPU kernels for another instruction set: decoded, within bounds. */
    CHECK(coord_recheck_same(jpeg, &desc, &cpu, &cuda_near, &db) && db >= RECHECK_MIN_PSNR_DB);
    printf("PSNR of a level off on one luma sample in seven: %.1f dB\n", db);
    CHECK(coord_recheck_same(jpeg, &desc, &cpu, &scalar_near, &db));
    CHECK(!coord_recheck_same(jpeg, &desc, &cpu, &cuda_far, &db) && db < RECHECK_MIN_PSNR_DB);
    printf("PSNR of the top half brightened by 40: %.1f dB\n", db);
    /* Garbage where a JPEG should be never agrees. */
    zmq_msg_t junk;
    msg_of(&junk, "\xff\xd8 junk", 7);
    coord_recheck_answer cuda_junk = {"g", P2C2R_RUNTIME_CUDA, "", &junk};
    CHECK(!coord_recheck_same(jpeg, &desc, &cpu, &cuda_junk, &db) && db == 0);

    /* Raw outputs of two runtimes. */
    p2c2r_image gray = {0};
    CHECK_RC(p2c2r__image_alloc(&gray, P2C2R_PIX_GRAY8, 64, 32), P2C2R_OK);
    for (uint32_t r = 0; r < 32; r++)
        for (uint32_t i = 0; i < 64; i++)
            gray.plane[0].data[r * gray.plane[0].stride + i] = (uint8_t)(r * 4 + i);
    uint8_t *raw1 = NULL, *raw2 = NULL;
    size_t n1 = 0, n2 = 0;
    CHECK_RC(p2c2r__image_to_raw(&gray, &raw1, &n1), P2C2R_OK);
    shift_luma(&gray, 32, 1, 5);
    CHECK_RC(p2c2r__image_to_raw(&gray, &raw2, &n2), P2C2R_OK);
    zmq_msg_t r1, r2;
    msg_of(&r1, raw1, n1);
    msg_of(&r2, raw2, n2);
    coord_output_desc raw = {P2C2R_CODEC_RAW, P2C2R_PIX_GRAY8, 64, 32};
    coord_recheck_answer x = {"a", P2C2R_RUNTIME_CPU, "avx2", &r1};
    coord_recheck_answer y = {"b", P2C2R_RUNTIME_CUDA, "", &r2};
    CHECK(coord_recheck_same(jpeg, &raw, &x, &y, &db) && db > RECHECK_MIN_PSNR_DB);
    y.runtime = P2C2R_RUNTIME_CPU;
    y.simd = "avx2";
    CHECK(!coord_recheck_same(jpeg, &raw, &x, &y, &db));
    free(raw1);
    free(raw2);
    zmq_msg_close(&r1);
    zmq_msg_close(&r2);
    zmq_msg_close(&junk);
    zmq_msg_close(&orig);
    zmq_msg_close(&near);
    zmq_msg_close(&far);
    p2c2r__image_free(&gray);
    p2c2r__image_free(&img);
}

static void test_reputation(void)
{
    coord_reputation *rep = coord_reputation_new();
    CHECK(rep != NULL);
    /* A newcomer: its second defeat quarantines it, once. */
    CHECK(!coord_reputation_record(rep, "new", false));
    CHECK(!coord_reputation_quarantined(rep, "new"));
    CHECK(coord_reputation_record(rep, "new", false));
    CHECK(coord_reputation_quarantined(rep, "new"));
    CHECK(!coord_reputation_record(rep, "new", false)); /* already */
    for (int i = 0; i < 100; i++)
        coord_reputation_record(rep, "new", true);
    CHECK(coord_reputation_quarantined(rep, "new")); /* for good */
    /* Credit is capped: a peer with a long good record falls by its fourth defeat in a row. */
    for (int i = 0; i < 1000; i++)
        CHECK(!coord_reputation_record(rep, "old", true));
    CHECK(coord_reputation_get(rep, "old")->score == REPUTATION_CAP);
    for (int i = 0; i < 3; i++)
        CHECK(!coord_reputation_record(rep, "old", false));
    CHECK(coord_reputation_record(rep, "old", false));
    /* Wrong in one check in five: never falls (+4 -4 per five). */
    for (int i = 0; i < 500; i++)
        coord_reputation_record(rep, "rare", i % 5 != 4);
    CHECK(!coord_reputation_quarantined(rep, "rare"));
    /* Wrong in one check in four: falls. */
    for (int i = 0; i < 500; i++)
        coord_reputation_record(rep, "often", i % 4 != 3);
    CHECK(coord_reputation_quarantined(rep, "often"));
    CHECK(!coord_reputation_quarantined(rep, "unknown") && !coord_reputation_get(rep, "unknown"));
    CHECK(coord_reputation_quarantines(rep) == 3);
    const coord_rep_record *r = coord_reputation_get(rep, "new");
    CHECK(r && r->agreements == 100 && r->disagreements == 3);
    coord_reputation_destroy(&rep);
    CHECK(rep == NULL);
}

static void test_verdicts(void)
{
    coord_reputation *rep = coord_reputation_new();
    coord_recheck *rc = coord_recheck_new(1.0, rep, 42);
    CHECK(rep && rc);
    zmq_msg_t right, wrong, other;
    msg_of(&right, "right answer", 12);
    msg_of(&wrong, "wrong answer", 12);
    msg_of(&other, "other answer", 12);
    coord_output_desc desc = {P2C2R_CODEC_RAW, P2C2R_PIX_GRAY8, 4, 3};
    coord_recheck_verdict v;

    /* Agreement. */
    coord_recheck_answer a = {"name:a", P2C2R_RUNTIME_CPU, "avx2", &right};
    coord_recheck_answer b = {"name:b", P2C2R_RUNTIME_CPU, "avx2", &right};
    coord_recheck_job *job = coord_recheck_start(rc, &desc, &a);
    CHECK(job && coord_recheck_answered(job, "name:a") && !coord_recheck_answered(job, "name:b"));
    coord_recheck_add(rc, job, &b, &v);
    CHECK(v.outcome == COORD_RECHECK_AGREED);
    coord_recheck_end(rc, &job, false);
    CHECK(job == NULL);

    /* The second is wrong: the third sides with the first. */
    coord_recheck_answer liar = {"name:liar", P2C2R_RUNTIME_CPU, "avx2", &wrong};
    coord_recheck_answer c = {"name:c", P2C2R_RUNTIME_CPU, "avx2", &right};
    job = coord_recheck_start(rc, &desc, &a);
    coord_recheck_add(rc, job, &liar, &v);
    CHECK(v.outcome == COORD_RECHECK_THIRD && coord_recheck_answered(job, "name:liar"));
    coord_recheck_add(rc, job, &c, &v);
    CHECK(v.outcome == COORD_RECHECK_DECIDED && !v.first_outvoted && !v.quarantined);
    CHECK(v.outvoted && strcmp(v.outvoted, "name:liar") == 0);
    coord_recheck_end(rc, &job, false);

    /* The first is wrong (its client had it): the third sides with the second, and this
     * second defeat quarantines the liar. */
    job = coord_recheck_start(rc, &desc, &liar);
    coord_recheck_add(rc, job, &a, &v);
    CHECK(v.outcome == COORD_RECHECK_THIRD);
    coord_recheck_add(rc, job, &c, &v);
    CHECK(v.outcome == COORD_RECHECK_DECIDED && v.first_outvoted && v.quarantined);
    CHECK(v.majority && zmq_msg_size((zmq_msg_t *)v.majority) == 12 &&
          memcmp(zmq_msg_data((zmq_msg_t *)v.majority), "right answer", 12) == 0);
    CHECK(coord_reputation_quarantined(rep, "name:liar"));
    coord_recheck_end(rc, &job, false);

    /* Three different answers: nobody is charged. */
    coord_recheck_answer d = {"name:d", P2C2R_RUNTIME_CPU, "avx2", &other};
    job = coord_recheck_start(rc, &desc, &a);
    coord_recheck_add(rc, job, &liar, &v);
    coord_recheck_add(rc, job, &d, &v);
    CHECK(v.outcome == COORD_RECHECK_UNDECIDED);
    coord_recheck_end(rc, &job, false);
    CHECK(!coord_reputation_quarantined(rep, "name:a") &&
          !coord_reputation_quarantined(rep, "name:c"));
    CHECK(coord_reputation_get(rep, "name:d") == NULL);
    CHECK(coord_reputation_get(rep, "name:a")->agreements == 3);

    /* At most RECHECK_MAX_PENDING open; an abandoned one is counted. */
    coord_recheck_job *open[RECHECK_MAX_PENDING];
    for (unsigned i = 0; i < RECHECK_MAX_PENDING; i++)
        CHECK((open[i] = coord_recheck_start(rc, &desc, &a)) != NULL);
    CHECK(coord_recheck_start(rc, &desc, &a) == NULL);
    for (unsigned i = 0; i < RECHECK_MAX_PENDING; i++)
        coord_recheck_end(rc, &open[i], true);
    coord_recheck_stats st;
    coord_recheck_stats_get(rc, &st);
    CHECK(st.sampled == 4 + RECHECK_MAX_PENDING && st.skipped == 1 && st.agreed == 1);
    CHECK(st.disagreed == 3 && st.upheld == 1 && st.overturned == 1 && st.undecided == 1);
    CHECK(st.abandoned == RECHECK_MAX_PENDING);

    /* Draws: never at 0, always at 1, about the rate in between. */
    int hits = 0;
    for (int i = 0; i < 1000; i++)
        CHECK(coord_recheck_draw(rc));
    coord_recheck *quarter = coord_recheck_new(0.25, rep, 7);
    coord_recheck *none = coord_recheck_new(0, rep, 7);
    for (int i = 0; i < 10000; i++) {
        hits += coord_recheck_draw(quarter);
        CHECK(!coord_recheck_draw(none));
    }
    printf("draws at rate 0.25: %d of 10000\n", hits);
    CHECK(hits > 2200 && hits < 2800);
    coord_recheck_destroy(&quarter);
    coord_recheck_destroy(&none);
    zmq_msg_close(&right);
    zmq_msg_close(&wrong);
    zmq_msg_close(&other);
    coord_recheck_destroy(&rc);
    coord_reputation_destroy(&rep);
}

int main(void)
{
    size_t size;
    uint8_t *file = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    CHECK(file && jpeg);
    if (file && jpeg)
        test_compare(jpeg, file, size);
    test_reputation();
    test_verdicts();
    p2c2r__jpeg_destroy(&jpeg);
    free(file);
    return testutil_finish("recheck_test");
}
