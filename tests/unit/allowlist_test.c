/* allowlist_test: the allowlist format of allowlist.h: keys with and without limits,
 * comments (a '#' inside a key is part of it), and every malformed line refused with its
 * file name and line number; keygen and key loading (common/curve.h) with their files and
 * modes. */
#include "coordinator/allowlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/curve.h"
#include "p2c2r_error.h"
#include "testutil.h"

/* Z85 keys made with zmq_curve_keypair(); the second holds a '#'. */
#define KEY_A "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_B "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{#ID"

/* Parse text and CHECK the error: P2C2R_E_INVAL and a message starting "t:LINE: " that
 * contains want. */
static void check_refused(const char *text, bool clients, int line, const char *want)
{
    coord_allowlist *list = NULL;
    char why[512] = "", prefix[32];
    CHECK_RC(coord_allowlist_parse(text, "t", clients, &list, why, sizeof why), P2C2R_E_INVAL);
    CHECK(list == NULL);
    snprintf(prefix, sizeof prefix, "t:%d: ", line);
    if (strncmp(why, prefix, strlen(prefix)) != 0 || !strstr(why, want)) {
        fprintf(stderr, "for %s: got '%s', wanted '%s...%s'\n", text, why, prefix, want);
        testutil_failures++;
    }
}

static void test_good(void)
{
    coord_allowlist *list = NULL;
    char why[512] = "";
    const char *text = "# clients\n"
                       "\n" KEY_A " priority=5 queued-bytes=64M   # the renderer\n"
                       "  " KEY_B "\r\n";
    CHECK_RC(coord_allowlist_parse(text, "t", true, &list, why, sizeof why), P2C2R_OK);
    CHECK(coord_allowlist_size(list) == 2);
    const coord_allowed *a = coord_allowlist_find(list, KEY_A);
    const coord_allowed *b = coord_allowlist_find(list, KEY_B);
    CHECK(a && a->max_priority == 5 && a->max_queued_bytes == 64ull << 20);
    CHECK(b && b->max_priority == UINT32_MAX && b->max_queued_bytes == 0);
    CHECK(coord_allowlist_find(list, "nope") == NULL);

    coord_allowlist *peers = NULL;
    CHECK_RC(coord_allowlist_parse(KEY_B "\n", "p", false, &peers, why, sizeof why), P2C2R_OK);
    CHECK(coord_allowlist_shared(list, peers) &&
          strcmp(coord_allowlist_shared(list, peers), KEY_B) == 0);
    coord_allowlist_destroy(&peers);
    CHECK_RC(coord_allowlist_parse("", "p", false, &peers, why, sizeof why), P2C2R_OK);
    CHECK(coord_allowlist_size(peers) == 0 && !coord_allowlist_shared(list, peers));
    coord_allowlist_destroy(&peers);
    coord_allowlist_destroy(&list);
    CHECK(list == NULL);
    coord_allowlist_destroy(&list); /* accepts NULL */
}

static void test_bad(void)
{
    check_refused("# ok\nnot-a-key\n", false, 2, "not a public key");
    check_refused(KEY_A "x\n", false, 1, "not a public key");
    check_refused(KEY_A "\n" KEY_B "\n" KEY_A "\n", false, 3, "listed twice");
    check_refused(KEY_A " priority=1\n", false, 1, "a peers line holds a key and nothing else");
    check_refused("\n\n" KEY_A " priority=high\n", true, 3, "priority must be a number");
    check_refused(KEY_A " priority=4294967295\n", true, 1, "priority must be a number");
    check_refused(KEY_A " priority=-1\n", true, 1, "priority must be a number");
    check_refused(KEY_A " queued-bytes=0\n", true, 1, "queued-bytes must be a number > 0");
    check_refused(KEY_A " queued-bytes=12T\n", true, 1, "queued-bytes must be a number > 0");
    check_refused(KEY_A " queued-bytes=99999999999999999999\n", true, 1, "queued-bytes");
    check_refused(KEY_A " slots=3\n", true, 1, "unknown field 'slots=3'");
    check_refused(KEY_A " priority=1#x\n", true, 1, "priority must be a number");
}

static void test_files(void)
{
    char dir[] = "/tmp/p2c2r-keys-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char name[128], secret[160], why[512] = "";
    snprintf(name, sizeof name, "%s/k", dir);
    snprintf(secret, sizeof secret, "%s/k_secret", dir);
    if (!p2c2r__curve_available()) {
        CHECK_RC(p2c2r__curve_keygen(name, why, sizeof why), P2C2R_E_UNSUPPORTED);
        rmdir(dir);
        return;
    }
    CHECK_RC(p2c2r__curve_keygen(name, why, sizeof why), P2C2R_OK);
    struct stat st;
    CHECK(stat(secret, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_RC(p2c2r__curve_keygen(name, why, sizeof why), P2C2R_E_INVAL); /* never overwrites */
    p2c2r_curve_key pub, sec, pub2, pub3;
    CHECK_RC(p2c2r__curve_load(secret, pub, sec, why, sizeof why), P2C2R_OK);
    CHECK(p2c2r__curve_key_valid(pub) && p2c2r__curve_key_valid(sec) && strcmp(pub, sec) != 0);
    CHECK_RC(p2c2r__curve_load(name, pub2, NULL, why, sizeof why), P2C2R_OK);
    CHECK(strcmp(pub, pub2) == 0);
    /* zcert_load() reads NAME_secret when it is there: a public file alone has no secret. */
    char lone[160];
    snprintf(lone, sizeof lone, "%s/lone", dir);
    CHECK(link(name, lone) == 0);
    CHECK_RC(p2c2r__curve_load(lone, pub2, sec, why, sizeof why), P2C2R_E_INVAL);
    CHECK(strstr(why, "no secret key") != NULL);
    CHECK_RC(p2c2r__curve_load(lone, pub2, NULL, why, sizeof why), P2C2R_OK);
    CHECK(strcmp(pub, pub2) == 0);
    unlink(lone);
    CHECK_RC(p2c2r__curve_public(KEY_A, pub3, why, sizeof why), P2C2R_OK);
    CHECK(strcmp(pub3, KEY_A) == 0);
    CHECK_RC(p2c2r__curve_public(name, pub3, why, sizeof why), P2C2R_OK);
    CHECK(strcmp(pub3, pub) == 0);
    CHECK_RC(p2c2r__curve_public("/nonexistent/key", pub3, why, sizeof why), P2C2R_E_IO);

    /* An allowlist file: the file name in the error. */
    char list_path[160];
    snprintf(list_path, sizeof list_path, "%s/allow", dir);
    FILE *f = fopen(list_path, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "%s\n%s junk\n", pub, KEY_A);
        fclose(f);
    }
    coord_allowlist *list = NULL;
    CHECK_RC(coord_allowlist_load(list_path, false, &list, why, sizeof why), P2C2R_E_INVAL);
    CHECK(strncmp(why, list_path, strlen(list_path)) == 0 && strstr(why, ":2: "));
    CHECK_RC(coord_allowlist_load("/nonexistent/allow", false, &list, why, sizeof why), P2C2R_E_IO);
    unlink(list_path);
    unlink(name);
    unlink(secret);
    rmdir(dir);
}

int main(void)
{
    CHECK(p2c2r__curve_key_valid(KEY_A) && p2c2r__curve_key_valid(KEY_B));
    CHECK(!p2c2r__curve_key_valid("short") && !p2c2r__curve_key_valid(NULL));
    test_good();
    test_bad();
    test_files();
    return testutil_finish("allowlist");
}
