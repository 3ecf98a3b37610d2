/* test_kube_config.c - kubeconfig parsing, in-cluster config and the search
 * order of kube_config_load(); bad input gives -FH_ECONFIG with a message
 * naming the file and the field, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fh_err.h"
#include "kube_config.h"
#include "kube_exec.h"

#define CA_PEM "-----BEGIN CERTIFICATE-----\nTESTCA\n-----END CERTIFICATE-----\n"

/* data_path - FH_TEST_DATA/kube/<name> */
static void
data_path(char *buf, size_t len, const char *name)
{
    const char *d = getenv("FH_TEST_DATA");

    snprintf(buf, len, "%s/kube/%s", d && d[0] ? d : "tests/unit/data", name);
}

/* load - kube_config_load_file on a data file */
static int
load(const char *name, const char *context, struct kube_config **cfg, char *err, size_t errlen)
{
    char path[512];

    data_path(path, sizeof(path), name);
    return kube_config_load_file(path, context, cfg, err, errlen);
}

/* write_file - create a file with content */
static void
write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* rm_dir - remove the given files (or empty subdirectories) and the directory */
static void
rm_dir(const char *dir, const char *const *names)
{
    char p[600];

    for (; *names; names++) {
        snprintf(p, sizeof(p), "%s/%s", dir, *names);
        if (unlink(p) < 0)
            rmdir(p);
    }
    rmdir(dir);
}

/* env_reset - a clean environment for kube_config_load */
static void
env_reset(void)
{
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
}

static void
test_token_and_ca_data(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512];

    (void)state;
    assert_int_equal(load("token.yaml", NULL, &cfg, err, sizeof(err)), 0);
    assert_non_null(cfg);
    assert_string_equal(cfg->server, "https://127.0.0.1:6443");   /* trailing '/' dropped */
    assert_string_equal(cfg->token, "abc");
    assert_null(cfg->token_file);
    assert_string_equal(cfg->namespace, "team-a");
    assert_int_equal(cfg->ca_data_len, strlen(CA_PEM));
    assert_memory_equal(cfg->ca_data, CA_PEM, strlen(CA_PEM));
    assert_null(cfg->ca_file);
    assert_false(cfg->insecure_skip_tls_verify);
    assert_null(cfg->tls_server_name);
    assert_non_null(strstr(cfg->source, "token.yaml"));
    kube_config_free(&cfg);
    assert_null(cfg);
    kube_config_free(&cfg);
}

static void
test_ca_file_relative_and_tls_server_name(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512], expect[512];

    (void)state;
    assert_int_equal(load("ca-file.yaml", NULL, &cfg, err, sizeof(err)), 0);
    data_path(expect, sizeof(expect), "certs/ca.crt");
    assert_string_equal(cfg->ca_file, expect);
    assert_null(cfg->ca_data);
    assert_string_equal(cfg->tls_server_name, "api.internal");
    assert_string_equal(cfg->token, "t0k");
    assert_null(cfg->namespace);
    kube_config_free(&cfg);
}

static void
test_client_cert_key_data_and_ipv6(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512];
    const char cert[] = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
    const char key[] = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

    (void)state;
    assert_int_equal(load("client-cert.yaml", NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://[::1]:6443");
    assert_int_equal(cfg->client_cert_data_len, strlen(cert));
    assert_memory_equal(cfg->client_cert_data, cert, strlen(cert));
    assert_int_equal(cfg->client_key_data_len, strlen(key));
    assert_memory_equal(cfg->client_key_data, key, strlen(key));
    /* folded multi-line base64 decodes too */
    assert_int_equal(cfg->ca_data_len, strlen(CA_PEM));
    assert_memory_equal(cfg->ca_data, CA_PEM, strlen(CA_PEM));
    assert_null(cfg->token);
    kube_config_free(&cfg);
}

static void
test_insecure_yaml_boolean_no_user(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512];

    (void)state;
    assert_int_equal(load("insecure.yaml", NULL, &cfg, err, sizeof(err)), 0);
    assert_true(cfg->insecure_skip_tls_verify);
    assert_string_equal(cfg->server, "http://127.0.0.1:8080");
    assert_null(cfg->token);
    assert_null(cfg->token_file);
    kube_config_free(&cfg);
}

static void
test_multiple_clusters_current_and_named_context(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512], expect[512];

    (void)state;
    /* current-context "second" picks cluster two and user bob (tokenFile) */
    assert_int_equal(load("multi.yaml", NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://two.example:6443");
    assert_true(cfg->insecure_skip_tls_verify);
    data_path(expect, sizeof(expect), "token.txt");
    assert_string_equal(cfg->token_file, expect);
    assert_null(cfg->token);
    assert_string_equal(cfg->namespace, "ns2");
    kube_config_free(&cfg);

    assert_int_equal(load("multi.yaml", "first", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://one.example:6443");
    assert_false(cfg->insecure_skip_tls_verify);
    assert_string_equal(cfg->token, "alice-token");
    assert_null(cfg->token_file);
    assert_string_equal(cfg->namespace, "ns1");
    kube_config_free(&cfg);

    assert_int_equal(load("multi.yaml", "third", &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_null(cfg);
    assert_non_null(strstr(err, "contexts"));
    assert_non_null(strstr(err, "third"));
}

/* expect_error - loading name fails with ECONFIG; err names the file and all needles */
static void
expect_error(const char *name, const char *needle1, const char *needle2)
{
    struct kube_config *cfg = (struct kube_config *)(uintptr_t)1;
    char err[512];

    assert_int_equal(load(name, NULL, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_null(cfg);
    if (!strstr(err, name))
        fail_msg("error for %s does not name the file: %s", name, err);
    if (needle1 && !strstr(err, needle1))
        fail_msg("error for %s lacks \"%s\": %s", name, needle1, err);
    if (needle2 && !strstr(err, needle2))
        fail_msg("error for %s lacks \"%s\": %s", name, needle2, err);
}

static void
test_bad_files(void **state)
{
    (void)state;
    expect_error("bad-yaml.yaml", "invalid YAML", "line");
    expect_error("no-current.yaml", "current-context", NULL);
    expect_error("dangling-context.yaml", "contexts", "nope");
    expect_error("dangling-cluster.yaml", "clusters", "missing-cluster");
    expect_error("dangling-user.yaml", "users", "ghost");
    expect_error("bad-base64.yaml", "certificate-authority-data", "base64");
    expect_error("no-server.yaml", "clusters[name=k].cluster.server", "missing");
    expect_error("auth-provider.yaml", "auth-provider", "not supported");
    expect_error("bad-bool.yaml", "insecure-skip-tls-verify", "maybe");
    expect_error("missing-ca-file.yaml", "certificate-authority", "no-such-ca.crt");
    expect_error("not-a-mapping.yaml", "not a mapping", NULL);
    expect_error("bad-server.yaml", "server", "ftp://");
    expect_error("empty.yaml", "empty", NULL);
    expect_error("does-not-exist.yaml", "cannot read", NULL);
}

static void
test_exec_plugin(void **state)
{
    struct kube_config *cfg = NULL;
    char err[512], *info = NULL;
    const struct kube_exec *x;

    (void)state;
    assert_int_equal(load("exec.yaml", NULL, &cfg, err, sizeof(err)), 0);
    x = cfg->exec;
    assert_non_null(x);
    assert_null(cfg->token);
    assert_string_equal(x->api_version, KUBE_EXEC_V1);
    /* a relative command with a '/' is relative to the kubeconfig's folder */
    assert_non_null(strstr(x->argv[0], "kube/"));
    assert_non_null(strstr(x->argv[0], "bin/my-plugin"));
    assert_int_equal(x->argc, 4);
    assert_string_equal(x->argv[1], "token");
    assert_string_equal(x->argv[3], "prod 1");
    assert_null(x->argv[4]);
    assert_int_equal(x->envc, 2);
    assert_string_equal(x->env[0], "AWS_PROFILE=fleet");
    assert_string_equal(x->env[1], "EMPTY=");
    assert_null(x->env[2]);
    assert_string_equal(x->install_hint, "install my-plugin from example.com");
    assert_true(x->provide_cluster_info);

    /* KUBERNETES_EXEC_INFO: non-interactive, with the cluster as asked */
    assert_int_equal(kube_exec_info(cfg, &info), 0);
    assert_non_null(strstr(info, "KUBERNETES_EXEC_INFO={"));
    assert_non_null(strstr(info, "\"kind\":\"ExecCredential\""));
    assert_non_null(strstr(info, "\"interactive\":false"));
    assert_non_null(strstr(info, "\"server\":\"https://x:1\""));
    assert_non_null(strstr(info, "\"tls-server-name\":\"api.example\""));
    free(info);
    kube_config_free(&cfg);
}

/* exec_case - a kubeconfig whose user has the given exec block (YAML flow
 * mapping) and extra user fields; expect an error naming field and reason */
static void
exec_case(const char *exec, const char *extra, const char *field, const char *reason)
{
    char dir[] = "/tmp/fh-exec-XXXXXX", path[600], text[1400], err[512];
    struct kube_config *cfg = NULL;
    const char *const names[] = { "config", NULL };

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/config", dir);
    snprintf(text, sizeof(text),
             "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: \"https://x:1\"}\n"
             "users:\n- name: u\n  user:\n    exec: %s\n%s"
             "contexts:\n- name: c\n  context: {cluster: k, user: u}\n", exec, extra);
    write_file(path, text);
    assert_int_equal(kube_config_load_file(path, NULL, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_null(cfg);
    if (!strstr(err, field) || !strstr(err, reason))
        fail_msg("exec %s: error lacks \"%s\" / \"%s\": %s", exec, field, reason, err);
    rm_dir(dir, names);
}

static void
test_exec_plugin_bad(void **state)
{
    (void)state;
    exec_case("{apiVersion: client.authentication.k8s.io/v1}", "", "user.exec.command", "missing");
    exec_case("{apiVersion: client.authentication.k8s.io/v1alpha1, command: p}", "",
              "user.exec.apiVersion", "client.authentication.k8s.io/v1");
    exec_case("{command: p}", "", "user.exec.apiVersion", "must be");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Always}",
              "", "interactiveMode", "terminal");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Sometimes}",
              "", "interactiveMode", "Sometimes");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, args: x}", "",
              "user.exec.args", "list");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, args: [[a]]}", "",
              "user.exec.args", "entry 0");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, env: {A: b}}", "",
              "user.exec.env", "list");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, env: [{value: b}]}", "",
              "user.exec.env[0]", "name");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, env: [{name: \"A=B\"}]}", "",
              "user.exec.env[0]", "'='");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p, provideClusterInfo: maybe}",
              "", "provideClusterInfo", "maybe");
    exec_case("[p]", "", "user.exec", "mapping");
    exec_case("{apiVersion: client.authentication.k8s.io/v1, command: p}", "    token: abc\n",
              "user.exec", "not both");
}

static void
test_err_buffer_optional_and_small(void **state)
{
    struct kube_config *cfg = NULL;
    char tiny[8];

    (void)state;
    assert_int_equal(load("auth-provider.yaml", NULL, &cfg, NULL, 0), -FH_ECONFIG);
    assert_int_equal(load("auth-provider.yaml", NULL, &cfg, tiny, sizeof(tiny)), -FH_ECONFIG);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* make_sa_dir - a fake service-account directory */
static void
make_sa_dir(char *dir, size_t len, bool with_token)
{
    char p[600];

    snprintf(dir, len, "/tmp/fh-incluster-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (with_token) {
        snprintf(p, sizeof(p), "%s/token", dir);
        write_file(p, "sa-token\n");
    }
    snprintf(p, sizeof(p), "%s/ca.crt", dir);
    write_file(p, CA_PEM);
    snprintf(p, sizeof(p), "%s/namespace", dir);
    write_file(p, "  operators\n");
}

static void
test_incluster_ipv4_and_ipv6(void **state)
{
    static const char *const files[] = { "token", "ca.crt", "namespace", NULL };
    struct kube_config *cfg = NULL;
    char dir[64], err[512], expect[600];

    (void)state;
    make_sa_dir(dir, sizeof(dir), true);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://10.96.0.1:443");
    snprintf(expect, sizeof(expect), "%s/token", dir);
    assert_string_equal(cfg->token_file, expect);   /* path kept for re-reading */
    assert_null(cfg->token);
    snprintf(expect, sizeof(expect), "%s/ca.crt", dir);
    assert_string_equal(cfg->ca_file, expect);
    assert_string_equal(cfg->namespace, "operators");
    assert_string_equal(cfg->source, "in-cluster");
    kube_config_free(&cfg);

    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://[fd00:10:96::1]:6443");
    kube_config_free(&cfg);

    setenv("KUBERNETES_SERVICE_PORT", "https", 1);
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT"));
    unsetenv("KUBERNETES_SERVICE_PORT");
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT"));
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
    assert_null(cfg);
    rm_dir(dir, files);
}

static void
test_incluster_missing_token(void **state)
{
    static const char *const files[] = { "token", "ca.crt", "namespace", NULL };
    struct kube_config *cfg = NULL;
    char dir[64], err[512];

    (void)state;
    make_sa_dir(dir, sizeof(dir), false);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(kube_config_load_incluster(dir, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_null(cfg);
    assert_non_null(strstr(err, "token"));
    env_reset();
    rm_dir(dir, files);
}

static void
test_load_search_order(void **state)
{
    static const char *const files[] = { "a.yaml", "b.yaml", ".kube/config", ".kube", NULL };
    const char *tmpl = "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: k\n"
                       "  cluster: {server: \"https://%s:1\"}\ncontexts:\n- name: c\n"
                       "  context: {cluster: k}\n";
    struct kube_config *cfg = NULL;
    char dir[64], a[128], b[128], home_cfg[160], kc[512], err[512], text[512];
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    (void)state;
    env_reset();
    snprintf(dir, sizeof(dir), "/tmp/fh-kcsearch-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a.yaml", dir);
    snprintf(b, sizeof(b), "%s/b.yaml", dir);
    snprintf(text, sizeof(text), tmpl, "a.example");
    write_file(a, text);
    snprintf(text, sizeof(text), tmpl, "b.example");
    write_file(b, text);

    /* first existing file of the list wins */
    snprintf(kc, sizeof(kc), "%s/missing.yaml:%s:%s", dir, b, a);
    setenv("KUBECONFIG", kc, 1);
    assert_int_equal(kube_config_load(NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://b.example:1");
    assert_string_equal(cfg->source, b);
    kube_config_free(&cfg);

    /* an explicit path beats $KUBECONFIG */
    assert_int_equal(kube_config_load(a, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://a.example:1");
    kube_config_free(&cfg);

    /* an explicit path that does not exist is an error, no fallback */
    snprintf(kc, sizeof(kc), "%s/nope.yaml", dir);
    assert_int_equal(kube_config_load(kc, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "nope.yaml"));

    /* nothing in $KUBECONFIG exists: in-cluster env comes next (no SA files here) */
    snprintf(kc, sizeof(kc), "%s/x.yaml:%s/y.yaml", dir, dir);
    setenv("KUBECONFIG", kc, 1);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(kube_config_load(NULL, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "in-cluster"));

    /* then $HOME/.kube/config */
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    snprintf(home_cfg, sizeof(home_cfg), "%s/.kube", dir);
    assert_int_equal(mkdir(home_cfg, 0700), 0);
    snprintf(home_cfg, sizeof(home_cfg), "%s/.kube/config", dir);
    snprintf(text, sizeof(text), tmpl, "home.example");
    write_file(home_cfg, text);
    setenv("HOME", dir, 1);
    assert_int_equal(kube_config_load(NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->server, "https://home.example:1");
    kube_config_free(&cfg);

    /* and nothing at all */
    unlink(home_cfg);
    unsetenv("KUBECONFIG");
    assert_int_equal(kube_config_load(NULL, &cfg, err, sizeof(err)), -FH_ECONFIG);
    assert_non_null(strstr(err, "no kubeconfig"));

    if (old_home)
        setenv("HOME", old_home, 1);
    free(old_home);
    rm_dir(dir, files);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ca_data),
        cmocka_unit_test(test_ca_file_relative_and_tls_server_name),
        cmocka_unit_test(test_client_cert_key_data_and_ipv6),
        cmocka_unit_test(test_insecure_yaml_boolean_no_user),
        cmocka_unit_test(test_multiple_clusters_current_and_named_context),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_exec_plugin),
        cmocka_unit_test(test_exec_plugin_bad),
        cmocka_unit_test(test_err_buffer_optional_and_small),
        cmocka_unit_test(test_incluster_ipv4_and_ipv6),
        cmocka_unit_test(test_incluster_missing_token),
        cmocka_unit_test(test_load_search_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
