/*
 * test_kube_exec.c - exec credential plugins: real shell-script plugins in a
 * private temp directory, run by kube_exec_token() and cached by
 * kube_token. Covers the token and expiry coming back, args, the
 * kubeconfig's env (overriding ours) and KUBERNETES_EXEC_INFO reaching the
 * plugin, every failure (non-zero exit with its stderr, not found with the
 * install hint, not executable, hung past the deadline, too much output,
 * wrong apiVersion, no token, client certificates, bad expiry), RFC 3339
 * parsing, and the token cache: reused until close to expiry, re-run when
 * forced (401), a failing plugin keeps the old token and is not re-run on
 * every request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fh_err.h"
#include "kube_config.h"
#include "kube_exec.h"
#include "kube_token.h"
#include "secret_mem.h"

#define V1 KUBE_EXEC_V1

/* Per-test fixture: a temp dir with the plugin script and a run counter. */
struct fx {
    char dir[64];
    char plugin[128];
    char counter[128];
    char *argv[4];
    char *env[3];
    struct kube_exec x;
    struct kube_config cfg;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/fh-kexec-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->plugin, sizeof(f->plugin), "%s/plugin", f->dir);
    snprintf(f->counter, sizeof(f->counter), "%s/runs", f->dir);
    f->argv[0] = f->plugin;
    f->argv[1] = (char *)"arg-one";
    f->argv[2] = NULL;
    f->env[0] = (char *)"FH_TEST_PROFILE=fleet";
    f->env[1] = NULL;
    f->x.api_version = (char *)V1;
    f->x.argv = f->argv;
    f->x.argc = 2;
    f->x.env = f->env;
    f->x.envc = 1;
    f->x.install_hint = (char *)"see the plugin's docs";
    f->cfg.server = (char *)"https://api.example:6443";
    f->cfg.exec = &f->x;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    unlink(f->plugin);
    unlink(f->counter);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* write_plugin - the plugin file, executable, with exactly text */
static void
write_plugin(struct fx *f, const char *text)
{
    FILE *fp = fopen(f->plugin, "w");

    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(f->plugin, 0700), 0);
}

/* script - a #!/bin/sh plugin: count the run, then body */
static void
script(struct fx *f, const char *body)
{
    char text[2048];

    snprintf(text, sizeof(text), "#!/bin/sh\necho x >> '%s'\n%s\n", f->counter, body);
    write_plugin(f, text);
}

/* runs - how often the plugin ran */
static int
runs(struct fx *f)
{
    FILE *fp = fopen(f->counter, "r");
    int n = 0, c;

    if (!fp)
        return 0;
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

/* run - kube_exec_token with fresh info; returns rc, fills tok/expiry/err */
static int
run(struct fx *f, int timeout_ms, char **tok, int64_t *expiry, char *err, size_t errlen)
{
    char *info = NULL;
    int rc;

    assert_int_equal(kube_exec_info(&f->cfg, &info), 0);
    rc = kube_exec_token(&f->x, info, timeout_ms, tok, expiry, err, errlen);
    free(info);
    return rc;
}

/* expect_fail - the plugin run fails with -FH_ECONFIG and err holds both needles */
static void
expect_fail(struct fx *f, int timeout_ms, const char *n1, const char *n2)
{
    char *tok = NULL, err[512];
    int64_t exp = 0;

    assert_int_equal(run(f, timeout_ms, &tok, &exp, err, sizeof(err)), -FH_ECONFIG);
    assert_null(tok);
    if (!strstr(err, n1) || (n2 && !strstr(err, n2)))
        fail_msg("error lacks \"%s\"/\"%s\": %s", n1, n2 ? n2 : "", err);
}

#define CRED(status) "printf '%s' '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":" status "}'"

static void
test_token_args_env_and_info_reach_the_plugin(void **state)
{
    struct fx *f = *state;
    char *tok = NULL, err[512];
    int64_t exp = 0;

    setenv("FH_TEST_PROFILE", "ours", 1);   /* the kubeconfig's value wins */
    script(f,
           "case \"$KUBERNETES_EXEC_INFO\" in\n"
           "  *'\"apiVersion\":\"" V1 "\"'*'\"kind\":\"ExecCredential\"'*'\"interactive\":false'*) ;;\n"
           "  *) echo \"bad info: $KUBERNETES_EXEC_INFO\" >&2; exit 3;;\n"
           "esac\n"
           "case \"$KUBERNETES_EXEC_INFO\" in *server*) echo 'cluster info not asked for' >&2; exit 4;; esac\n"
           "read line && { echo 'stdin is not empty' >&2; exit 5; }\n"
           "printf '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
           "{\"token\":\"tok-%s-%s\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}' \"$1\" \"$FH_TEST_PROFILE\"");
    assert_int_equal(run(f, 10000, &tok, &exp, err, sizeof(err)), 0);
    assert_string_equal(tok, "tok-arg-one-fleet");
    assert_int_equal(exp, 1893553445);
    secret_free(&tok, 0);

    /* The shell keeps the last of two same-named variables, but getenv()
     * and Python keep the first: ours must have been replaced, not shadowed. */
    write_plugin(f, "#!/usr/bin/python3\nimport os, json\n"
                    "print(json.dumps({'apiVersion': '" V1 "', 'kind': 'ExecCredential',"
                    " 'status': {'token': 'p-' + os.environ['FH_TEST_PROFILE']}}))\n");
    assert_int_equal(run(f, 10000, &tok, &exp, err, sizeof(err)), 0);
    assert_string_equal(tok, "p-fleet");
    secret_free(&tok, 0);
    unsetenv("FH_TEST_PROFILE");

    /* provideClusterInfo: the server reaches the plugin */
    f->x.provide_cluster_info = true;
    script(f, "case \"$KUBERNETES_EXEC_INFO\" in *'\"server\":\"https://api.example:6443\"'*) ;; "
              "*) exit 6;; esac\n" CRED("{\"token\":\"t\"}"));
    assert_int_equal(run(f, 10000, &tok, &exp, err, sizeof(err)), 0);
    assert_string_equal(tok, "t");
    assert_int_equal(exp, 0);                                   /* no expiry given */
    secret_free(&tok, 0);
}

static void
test_plugin_failures_are_clear(void **state)
{
    struct fx *f = *state;

    script(f, "echo; echo 'error: login required, run kubelogin' >&2; exit 1");
    expect_fail(f, 10000, "exited 1", "login required");

    script(f, "kill -9 $$");
    expect_fail(f, 10000, "killed by signal 9", NULL);

    script(f, "exec sleep 30");
    expect_fail(f, 300, "did not answer", NULL);

    script(f, "head -c 2000000 /dev/zero");
    expect_fail(f, 10000, "more than", NULL);

    script(f, "echo not json");
    expect_fail(f, 10000, "not JSON", NULL);

    script(f, "printf '%s' '{\"apiVersion\":\"" KUBE_EXEC_V1BETA1 "\",\"kind\":\"ExecCredential\","
              "\"status\":{\"token\":\"t\"}}'");
    expect_fail(f, 10000, "apiVersion " KUBE_EXEC_V1BETA1, "asks for " V1);

    script(f, CRED("{\"clientCertificateData\":\"c\",\"clientKeyData\":\"k\"}"));
    expect_fail(f, 10000, "client certificate", NULL);

    script(f, CRED("{}"));
    expect_fail(f, 10000, "no token", NULL);

    script(f, CRED("{\"token\":\"a\\nb\"}"));
    expect_fail(f, 10000, "line break", NULL);

    script(f, CRED("{\"token\":\"t\",\"expirationTimestamp\":\"tomorrow\"}"));
    expect_fail(f, 10000, "expirationTimestamp", NULL);

    /* not executable: exec fails in the child, the hint is shown */
    script(f, "true");
    assert_int_equal(chmod(f->plugin, 0600), 0);
    expect_fail(f, 10000, "exited 127", "see the plugin's docs");

    /* not in PATH */
    f->argv[0] = (char *)"fh-no-such-plugin-anywhere";
    expect_fail(f, 10000, "not found in PATH", "see the plugin's docs");
    f->argv[0] = f->plugin;
}

static void
test_parse_and_rfc3339(void **state)
{
    char *tok = NULL, err[256];
    int64_t t = 0;
    const char ok[] = "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                      "\"status\":{\"token\":\"abc\",\"expirationTimestamp\":null}}";

    (void)state;
    assert_int_equal(kube_exec_parse(ok, strlen(ok), V1, &tok, &t, err, sizeof(err)), 0);
    assert_string_equal(tok, "abc");
    assert_int_equal(t, 0);
    secret_free(&tok, 0);
    assert_int_equal(kube_exec_parse("{\"kind\":\"Secret\"}", 17, V1, &tok, &t, err, sizeof(err)),
                     -FH_ECONFIG);
    assert_non_null(strstr(err, "not an ExecCredential"));
    assert_int_equal(kube_exec_parse(ok, 10, V1, &tok, &t, err, sizeof(err)), -FH_ECONFIG);

    assert_int_equal(kube_exec_rfc3339("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(kube_exec_rfc3339("2030-01-02T03:04:05.123456Z", &t), 0);
    assert_int_equal(t, 1893553445);
    assert_int_equal(kube_exec_rfc3339("2030-01-02T05:04:05+02:00", &t), 0);
    assert_int_equal(t, 1893553445);
    assert_int_equal(kube_exec_rfc3339("2030-01-01T22:04:05-05:00", &t), 0);
    assert_int_equal(t, 1893553445);
    assert_int_equal(kube_exec_rfc3339("2030-01-02 03:04:05Z", &t), -FH_EINVAL);
    assert_int_equal(kube_exec_rfc3339("2030-13-02T03:04:05Z", &t), -FH_EINVAL);
    assert_int_equal(kube_exec_rfc3339("2030-01-02T03:04:05", &t), -FH_EINVAL);
    assert_int_equal(kube_exec_rfc3339("2030-01-02T03:04:05.Z", &t), -FH_EINVAL);
    assert_int_equal(kube_exec_rfc3339("2030-01-02T03:04:05+0200", &t), -FH_EINVAL);
    assert_int_equal(kube_exec_rfc3339(NULL, &t), -FH_EINVAL);
}

static void
test_token_cache(void **state)
{
    struct fx *f = *state;
    struct kube_token t;
    bool changed = false;
    char body[512];

    /* a token that expires in an hour: cached, one run */
    snprintf(body, sizeof(body), "n=$(wc -l < '%s'); printf '{\"apiVersion\":\"%s\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok%%d\"}}' $n", f->counter, V1);
    script(f, body);
    assert_int_equal(kube_token_init(&t, &f->cfg), 0);
    assert_true(kube_token_refreshable(&t));
    assert_string_equal(kube_token_value(&t), "tok1");
    assert_int_equal(kube_token_refresh(&t, false, &changed), 0);
    assert_false(changed);
    assert_int_equal(runs(f), 1);                   /* no expiry: cached for good */
    t.expiry = (int64_t)time(NULL) + 3600;
    assert_int_equal(kube_token_refresh(&t, false, NULL), 0);
    assert_int_equal(runs(f), 1);
    /* about to expire: run again */
    t.expiry = (int64_t)time(NULL) + KUBE_TOKEN_EXPIRY_SLACK_S - 1;
    assert_int_equal(kube_token_refresh(&t, false, &changed), 0);
    assert_true(changed);
    assert_string_equal(kube_token_value(&t), "tok2");
    assert_int_equal(runs(f), 2);
    /* after a 401: forced */
    assert_int_equal(kube_token_refresh(&t, true, &changed), 0);
    assert_true(changed);
    assert_string_equal(kube_token_value(&t), "tok3");

    /* the plugin starts failing: the old token stays, the reason is kept,
     * and an unforced refresh does not run it again right away */
    script(f, "echo 'expired refresh token' >&2; exit 2");
    t.expiry = 1;
    assert_int_equal(kube_token_refresh(&t, false, NULL), -FH_ECONFIG);
    assert_string_equal(kube_token_value(&t), "tok3");
    assert_non_null(strstr(kube_token_error(&t), "expired refresh token"));
    assert_int_equal(runs(f), 4);
    assert_int_equal(kube_token_refresh(&t, false, NULL), -FH_EAGAIN);
    assert_int_equal(runs(f), 4);
    assert_int_equal(kube_token_refresh(&t, true, NULL), -FH_ECONFIG);   /* forced: runs */
    assert_int_equal(runs(f), 5);
    kube_token_clear(&t);
    assert_null(kube_token_value(&t));

    /* a plugin failing at start fails init with the reason */
    assert_int_equal(kube_token_init(&t, &f->cfg), -FH_ECONFIG);
    assert_non_null(strstr(kube_token_error(&t), "exited 2"));
    kube_token_clear(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_args_env_and_info_reach_the_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_failures_are_clear, setup, teardown),
        cmocka_unit_test(test_parse_and_rfc3339),
        cmocka_unit_test_setup_teardown(test_token_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
