/* admission_test: the judgement of whether a task can still make its deadline, and the
 * smoothed service times it is fed with. */
#include "coordinator/admission.h"
#include "coordinator/estimate.h"

#include <string.h>

#include "testutil.h"

#define MS 1000u

static void admission(void)
{
    coord_admission *a = coord_admission_new();
    CHECK(a != NULL);
    if (!a)
        return;
    char why[200] = "";
    uint64_t now = 1000000;
    /* Nothing known or no peer: admitted. */
    CHECK(coord_admission_check(a, 0, 0, 0, 1, now, now + 1, why, sizeof why));
    CHECK(coord_admission_check(a, 0, 50 * MS, 0, 0, now, now + 1, why, sizeof why));
    /* 10 ms tasks, one slot: 90 ms of work ahead still fits in 100 ms, 100 ms does not. */
    CHECK(coord_admission_check(a, 0, 10 * MS, 90 * MS, 1, now, now + 100 * MS, why, sizeof why));
    CHECK(!coord_admission_check(a, 0, 10 * MS, 100 * MS, 1, now, now + 100 * MS, why, sizeof why));
    CHECK(strstr(why, "100 ms of work ahead on 1 slot(s)") != NULL);
    /* Two slots halve the wait. */
    CHECK(coord_admission_check(a, 0, 10 * MS, 100 * MS, 2, now, now + 100 * MS, why, sizeof why));
    /* Half the running work of its class counts as still to do; other classes do not. */
    coord_admission_running(a, 4, 40 * MS);
    CHECK(coord_admission_check(a, 4, 10 * MS, 0, 1, now, now + 30 * MS, why, sizeof why));
    CHECK(!coord_admission_check(a, 4, 10 * MS, 0, 1, now, now + 29 * MS, why, sizeof why));
    CHECK(coord_admission_check(a, 5, 10 * MS, 0, 1, now, now + 10 * MS, why, sizeof why));
    coord_admission_running(a, 4, -40 * (int64_t)MS);
    CHECK(coord_admission_check(a, 4, 10 * MS, 0, 1, now, now + 10 * MS, why, sizeof why));
    coord_admission_destroy(&a);
    CHECK(a == NULL);
}

static void estimates(void)
{
    coord_estimates *e = coord_estimates_new();
    CHECK(e != NULL);
    if (!e)
        return;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 2;
    up.mode = P2C2R__WIRE__UPSCALE_MODE__FAST;
    env.upscale = &up;
    uint64_t small = coord_estimate_class(0, &env, 1920 * 1080);
    CHECK(small == coord_estimate_class(0, &env, 1920 * 1000)); /* within a factor of two */
    CHECK(small != coord_estimate_class(0, &env, 3840 * 2160));
    up.scale = 4;
    CHECK(small != coord_estimate_class(0, &env, 1920 * 1080));

    uint64_t mean, dev;
    CHECK(!coord_estimates_get(e, small, &mean, &dev));
    coord_estimates_add(e, small, 8000);
    CHECK(coord_estimates_get(e, small, &mean, &dev) && mean == 8000 && dev == 4000);
    /* One slow sample moves the mean by an eighth of the difference. */
    coord_estimates_add(e, small, 16000);
    CHECK(coord_estimates_get(e, small, &mean, &dev) && mean == 9000);
    /* A steady figure is converged on. */
    for (int i = 0; i < 200; i++)
        coord_estimates_add(e, small, 5000);
    CHECK(coord_estimates_get(e, small, &mean, &dev) && mean > 4900 && mean <= 5100 && dev < 100);
    coord_estimates_destroy(&e);
}

int main(void)
{
    admission();
    estimates();
    return testutil_finish("admission_test");
}
