/* test_kube_client.c - kube_request against a scripted loopback server:
 * keep-alive, retries on 429/5xx/transport errors, token-file re-reads,
 * the body cap, tls-server-name routing; plus the Status/error helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_http.h"
#include "test_kube_server.h"

#define NOT_FOUND_STATUS \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
    "\"message\":\"widgets.example.com \\\"w1\\\" not found\",\"reason\":\"NotFound\"," \
    "\"details\":{\"name\":\"w1\",\"group\":\"example.com\",\"kind\":\"widgets\"},\"code\":404}"

struct fixture {
    struct ts srv;
    char kubeconfig[64];
    char tokfile[64];
    struct kube_config *cfg;
    struct kube_client *kc;
    struct fh_log log;
};

/* setup - server only; each test builds its own config/client */
static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || ts_start(&f->srv) < 0)
        return -1;
    fh_log_init(&f->log, "test", FH_LOG_ERROR);
    f->log.fd = -1;     /* keep the test output clean */
    *state = f;
    return 0;
}

/* teardown - client, config, files, server */
static int
teardown(void **state)
{
    struct fixture *f = *state;

    kube_client_free(&f->kc);
    kube_config_free(&f->cfg);
    if (f->kubeconfig[0])
        unlink(f->kubeconfig);
    if (f->tokfile[0])
        unlink(f->tokfile);
    ts_stop(&f->srv);
    free(f);
    return 0;
}

/* make_client - kubeconfig for the server (optional extra YAML) and a client */
static void
make_client(struct fixture *f, const char *cluster_extra, const char *user_yaml,
            const struct kube_client_opts *opts)
{
    char err[512];

    assert_int_equal(ts_kubeconfig(&f->srv, f->kubeconfig, sizeof(f->kubeconfig),
                                   cluster_extra, user_yaml), 0);
    if (kube_config_load_file(f->kubeconfig, NULL, &f->cfg, err, sizeof(err)) != 0)
        fail_msg("kubeconfig: %s", err);
    f->kc = kube_client_new(f->cfg, opts, &f->log);
    assert_non_null(f->kc);
}

/* get - GET path */
static int
get(struct fixture *f, const char *path, struct kube_response *r)
{
    return kube_request(f->kc, "GET", path, NULL, NULL, NULL, 0, r);
}

static void
test_get_keepalive_and_headers(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;
    const char *req;

    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/namespaces/a/configmaps/x ",
                                      .status = 200, .body = "{\"kind\":\"ConfigMap\"}" });
    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/namespaces/a/configmaps/y ",
                                      .status = 404, .body = NOT_FOUND_STATUS });
    make_client(f, NULL, NULL, NULL);
    assert_int_equal(get(f, "/api/v1/namespaces/a/configmaps/x", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(r.body_len, strlen("{\"kind\":\"ConfigMap\"}"));
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.retry_after_s, -1);
    assert_null(r.warning);
    kube_response_clear(&r);
    assert_null(r.body);

    assert_int_equal(get(f, "/api/v1/namespaces/a/configmaps/y", &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(kube_response_err(&r), -FH_ENOTFOUND);
    kube_response_clear(&r);

    /* both requests went over one kept-alive connection */
    assert_int_equal(ts_accepted(&f->srv), 1);
    req = ts_req(&f->srv, 0);
    assert_non_null(strstr(req, "Authorization: Bearer abc\r\n"));
    assert_non_null(strstr(req, "Accept: application/json\r\n"));
    assert_non_null(strstr(req, "User-Agent: fleet-handshake/"));
    assert_non_null(strstr(req, "HTTP/1.1\r\n"));
    assert_ptr_equal(kube_client_config(f->kc), f->cfg);
}

/* The apiserver's Warning header (299: a dropped unknown field, a
 * deprecation) reaches the caller; only the first. */
static void
test_warning_header_is_kept(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;

    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{}",
                                      .headers = "Warning: 299 - \"unknown field \\\"spec.x\\\"\"\r\n"
                                                 "Warning: 299 - \"second\"\r\n" });
    make_client(f, NULL, NULL, NULL);
    assert_int_equal(get(f, "/api/v1/namespaces/a/configmaps/x", &r), 0);
    assert_non_null(r.warning);
    assert_string_equal(r.warning, "299 - \"unknown field \\\"spec.x\\\"\"");
    kube_response_clear(&r);
    assert_null(r.warning);
}

static void
test_retry_429_with_retry_after(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_retries = 3, .max_retry_wait_ms = 1 };
    struct kube_response r;

    for (int i = 0; i < 2; i++)
        ts_add(&f->srv, (struct ts_step){ .status = 429, .headers = "Retry-After: 1\r\n"
                                          "Content-Type: text/plain\r\n",
                                          .body = "Too many requests, please try again later." });
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{}" });
    make_client(f, NULL, NULL, &o);
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(ts_nreqs(&f->srv), 3);
    kube_response_clear(&r);
}

static void
test_429_give_up_returns_last_response(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_retries = 2, .max_retry_wait_ms = 1 };
    struct kube_response r;
    char text[128];

    ts_add(&f->srv, (struct ts_step){ .status = 429, .headers = "Retry-After: 7\r\n", .body = "first" });
    ts_add(&f->srv, (struct ts_step){ .status = 429, .headers = "Retry-After: 7\r\n", .body = "second" });
    ts_add(&f->srv, (struct ts_step){ .status = 429, .headers = "Retry-After: 7\r\n", .body = "third" });
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "never" });
    make_client(f, NULL, NULL, &o);
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after_s, 7);
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.body, "third");
    assert_int_equal(kube_response_err(&r), -FH_ETHROTTLED);
    kube_status_text(&r, text, sizeof(text));
    assert_string_equal(text, "HTTP 429");      /* not a Status: body not copied */
    kube_response_clear(&r);
}

static void
test_5xx_retry_then_give_up(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_retries = 2, .max_retry_wait_ms = 1 };
    struct kube_response r;
    char text[128];

    ts_add(&f->srv, (struct ts_step){ .status = 503, .body = "{\"n\":1}" });
    ts_add(&f->srv, (struct ts_step){ .status = 500, .body = "{\"n\":2}" });
    ts_add(&f->srv, (struct ts_step){ .status = 500, .body =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"Internal error occurred: boom\",\"reason\":\"InternalError\",\"code\":500}" });
    make_client(f, NULL, NULL, &o);
    assert_int_equal(kube_request(f->kc, "PUT", "/api/v1/namespaces/a/configmaps/x", NULL,
                                  "application/json", "{}", 2, &r), 0);
    assert_int_equal(r.status, 500);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(kube_http_err(r.status), -FH_ESERVER);
    kube_status_text(&r, text, sizeof(text));
    assert_string_equal(text, "InternalError: Internal error occurred: boom");
    kube_response_clear(&r);
    assert_int_equal(ts_count(&f->srv, "PUT /api/v1/namespaces/a/configmaps/x "), 3);
}

static void
test_5xx_then_success(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_retries = 3, .max_retry_wait_ms = 1 };
    struct kube_response r;

    ts_add(&f->srv, (struct ts_step){ .status = 502, .body = "bad gateway", .close = true });
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{\"ok\":true}" });
    make_client(f, NULL, NULL, &o);
    assert_int_equal(get(f, "/version", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    assert_string_equal(r.body, "{\"ok\":true}");
    kube_response_clear(&r);
    assert_int_equal(ts_accepted(&f->srv), 2);  /* the server closed the first one */
}

/* write_token - rewrite the token file in place */
static void
write_token(const char *path, const char *tok)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(tok, fp);
    assert_int_equal(fclose(fp), 0);
}

/* token_user - user YAML with tokenFile = f->tokfile */
static void
token_user(struct fixture *f, char *yaml, size_t len, const char *initial)
{
    int fd;

    snprintf(f->tokfile, sizeof(f->tokfile), "/tmp/fh-token-XXXXXX");
    fd = mkstemp(f->tokfile);
    assert_true(fd >= 0);
    close(fd);
    write_token(f->tokfile, initial);
    snprintf(yaml, len, "    tokenFile: %s\n", f->tokfile);
}

static void
test_401_rereads_token_file_once(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;
    struct timespec times[2];
    struct stat st;
    char yaml[128];

    ts_add(&f->srv, (struct ts_step){ .match = "Bearer tokenA", .status = 401,
                                      .body = "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"code\":401}" });
    ts_add(&f->srv, (struct ts_step){ .match = "Bearer tokenB", .status = 200, .body = "{}" });
    token_user(f, yaml, sizeof(yaml), "tokenA\n");
    make_client(f, NULL, yaml, NULL);

    /* rotate the token without changing size or mtime: only the 401 can
     * reveal it */
    assert_int_equal(stat(f->tokfile, &st), 0);
    write_token(f->tokfile, "tokenB\n");
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, f->tokfile, times, 0), 0);

    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    kube_response_clear(&r);
    assert_int_equal(ts_count(&f->srv, "Authorization: Bearer tokenA\r\n"), 1);
    assert_int_equal(ts_count(&f->srv, "Authorization: Bearer tokenB\r\n"), 1);

    /* a 401 with an unchanged token is returned as is, after one re-read */
    ts_add(&f->srv, (struct ts_step){ .status = 401, .body = "{}" });
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(kube_response_err(&r), -FH_EUNAUTHORIZED);
    kube_response_clear(&r);
}

static void
test_changed_token_file_used_without_401(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;
    char yaml[128];

    ts_add(&f->srv, (struct ts_step){ .match = "Bearer first", .status = 200, .body = "{}" });
    ts_add(&f->srv, (struct ts_step){ .match = "Bearer second-longer", .status = 200, .body = "{}" });
    token_user(f, yaml, sizeof(yaml), "first");
    make_client(f, NULL, yaml, NULL);
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 200);
    kube_response_clear(&r);
    write_token(f->tokfile, "  second-longer\n");
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 1);
    kube_response_clear(&r);
}

static void
test_static_token_401_not_retried(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;

    ts_add(&f->srv, (struct ts_step){ .status = 401, .body = "{}" });
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{}" });
    make_client(f, NULL, NULL, NULL);
    assert_int_equal(get(f, "/api/v1/pods", &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.attempts, 1);
    kube_response_clear(&r);
}

static void
test_body_cap(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_body_bytes = 1024 };
    struct kube_response r;
    char *big = malloc(4097);

    assert_non_null(big);
    memset(big, 'a', 4096);
    big[4096] = '\0';
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = big });
    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{\"small\":1}" });
    make_client(f, NULL, NULL, &o);
    assert_int_equal(get(f, "/api/v1/secrets", &r), -FH_ETOOBIG);
    assert_int_equal(r.status, 0);
    assert_null(r.body);
    assert_int_equal(r.attempts, 1);    /* not retried: it would only fail again */
    /* the client is still usable */
    assert_int_equal(get(f, "/api/v1/secrets", &r), 0);
    assert_string_equal(r.body, "{\"small\":1}");
    kube_response_clear(&r);
    free(big);
}

static void
test_transport_error_retried_then_reported(void **state)
{
    struct fixture *f = *state;
    struct kube_client_opts o = { .max_retries = 2, .max_retry_wait_ms = 1 };
    struct kube_config cfg;
    struct kube_client *kc;
    struct kube_response r;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    char server[64];
    int fd;

    /* a port that was just free: connections are refused */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    snprintf(server, sizeof(server), "http://127.0.0.1:%d", ntohs(a.sin_port));
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = server;
    kc = kube_client_new(&cfg, &o, &f->log);
    assert_non_null(kc);
    /* refused connections are retried even for POST: nothing was sent */
    assert_int_equal(kube_request(kc, "POST", "/api/v1/namespaces/a/configmaps", NULL,
                                  "application/json", "{}", 2, &r), -FH_EIO);
    assert_int_equal(r.status, 0);
    assert_null(r.body);
    assert_int_equal(r.attempts, 3);
    kube_client_free(&kc);
    assert_null(kc);
}

static void
test_methods_and_bodies(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;
    const char *req;

    ts_add(&f->srv, (struct ts_step){ .match = "POST /api/v1/namespaces/a/configmaps ", .status = 201, .body = "{}" });
    ts_add(&f->srv, (struct ts_step){ .match = "PATCH /api/v1/namespaces/a/configmaps/x ", .status = 200, .body = "{}" });
    ts_add(&f->srv, (struct ts_step){ .match = "DELETE /api/v1/namespaces/a/configmaps/x ", .status = 200, .body = "{}" });
    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/namespaces/a/configmaps/x ", .status = 200, .body = "{\"g\":1}" });
    ts_add(&f->srv, (struct ts_step){ .match = "HEAD /healthz ", .status = 200 });
    make_client(f, NULL, NULL, NULL);

    assert_int_equal(kube_request(f->kc, "POST", "/api/v1/namespaces/a/configmaps", NULL,
                                  "application/json", "{\"a\":1}", 7, &r), 0);
    assert_int_equal(r.status, 201);
    kube_response_clear(&r);
    assert_int_equal(kube_request(f->kc, "PATCH", "/api/v1/namespaces/a/configmaps/x", NULL,
                                  "application/merge-patch+json", "{\"b\":2}", 7, &r), 0);
    kube_response_clear(&r);
    assert_int_equal(kube_request(f->kc, "DELETE", "/api/v1/namespaces/a/configmaps/x", NULL,
                                  NULL, NULL, 0, &r), 0);
    kube_response_clear(&r);
    /* a GET after the bodies must not carry one */
    assert_int_equal(get(f, "/api/v1/namespaces/a/configmaps/x", &r), 0);
    assert_string_equal(r.body, "{\"g\":1}");
    kube_response_clear(&r);
    assert_int_equal(kube_request(f->kc, "HEAD", "/healthz", NULL, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    kube_response_clear(&r);

    req = ts_req(&f->srv, 0);
    assert_non_null(strstr(req, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(req, "\r\n\r\n{\"a\":1}"));
    req = ts_req(&f->srv, 1);
    assert_non_null(strstr(req, "Content-Type: application/merge-patch+json\r\n"));
    assert_non_null(strstr(req, "\r\n\r\n{\"b\":2}"));
    assert_null(strstr(req, "Expect:"));
    req = ts_req(&f->srv, 3);
    assert_null(strstr(req, "Content-Length"));
    assert_int_equal(ts_nreqs(&f->srv), 5);
    assert_int_equal(kube_request(f->kc, "GET", "no-slash", NULL, NULL, NULL, 0, &r), -FH_EINVAL);
}

static void
test_tls_server_name_routes_via_connect_to(void **state)
{
    struct fixture *f = *state;
    struct kube_response r;
    char host[64];

    ts_add(&f->srv, (struct ts_step){ .status = 200, .body = "{}" });
    /* kube.invalid never resolves: success proves the connection went to
     * the real server address while the URL named the tls-server-name */
    make_client(f, "    tls-server-name: kube.invalid\n", NULL, NULL);
    assert_int_equal(get(f, "/api", &r), 0);
    assert_int_equal(r.status, 200);
    kube_response_clear(&r);
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", f->srv.port);
    assert_int_equal(ts_count(&f->srv, host), 1);
}

static void
test_status_text_and_error_mapping(void **state)
{
    struct kube_response r = { .retry_after_s = -1 };
    char buf[256], tiny[8];
    char exists[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                    "\"message\":\"widgets.example.com \\\"w1\\\" already exists\","
                    "\"reason\":\"AlreadyExists\",\"code\":409}";
    char conflict[] = "{\"kind\":\"Status\",\"message\":\"the object has been modified\","
                      "\"reason\":\"Conflict\",\"code\":409}";
    char secret[] = "{\"kind\":\"Secret\",\"message\":\"hunter2\",\"reason\":\"x\",\"data\":{}}";
    char multiline[] = "{\"kind\":\"Status\",\"message\":\"line1\\nline2\",\"reason\":\"BadRequest\"}";
    char notfound[] = NOT_FOUND_STATUS;

    (void)state;
    r.status = 404;
    r.body = notfound;
    r.body_len = strlen(notfound);
    kube_status_text(&r, buf, sizeof(buf));
    assert_string_equal(buf, "NotFound: widgets.example.com \"w1\" not found");
    kube_status_text(&r, tiny, sizeof(tiny));
    assert_string_equal(tiny, "NotFoun");

    r.status = 409;
    r.body = exists;
    r.body_len = strlen(exists);
    assert_int_equal(kube_response_err(&r), -FH_EEXIST);
    assert_int_equal(kube_http_err(409), -FH_ECONFLICT);
    r.body = conflict;
    r.body_len = strlen(conflict);
    assert_int_equal(kube_response_err(&r), -FH_ECONFLICT);
    r.body = NULL;
    r.body_len = 0;
    assert_int_equal(kube_response_err(&r), -FH_ECONFLICT);
    kube_status_text(&r, buf, sizeof(buf));
    assert_string_equal(buf, "HTTP 409");

    /* never copy from a body that is not a Status */
    r.status = 403;
    r.body = secret;
    r.body_len = strlen(secret);
    kube_status_text(&r, buf, sizeof(buf));
    assert_string_equal(buf, "HTTP 403");
    assert_null(strstr(buf, "hunter2"));

    r.status = 400;
    r.body = multiline;
    r.body_len = strlen(multiline);
    kube_status_text(&r, buf, sizeof(buf));
    assert_string_equal(buf, "BadRequest: line1 line2");

    assert_int_equal(kube_http_err(200), 0);
    assert_int_equal(kube_http_err(201), 0);
    assert_int_equal(kube_http_err(204), 0);
    assert_int_equal(kube_http_err(400), -FH_EINVALIDOBJ);
    assert_int_equal(kube_http_err(401), -FH_EUNAUTHORIZED);
    assert_int_equal(kube_http_err(403), -FH_EFORBIDDEN);
    assert_int_equal(kube_http_err(404), -FH_ENOTFOUND);
    assert_int_equal(kube_http_err(410), -FH_EGONE);
    assert_int_equal(kube_http_err(422), -FH_EINVALIDOBJ);
    assert_int_equal(kube_http_err(429), -FH_ETHROTTLED);
    assert_int_equal(kube_http_err(500), -FH_ESERVER);
    assert_int_equal(kube_http_err(504), -FH_ESERVER);
    assert_int_equal(kube_http_err(302), -FH_EHTTP);
    assert_int_equal(kube_http_err(0), -FH_EHTTP);

    kube_response_clear(NULL);
    kube_status_text(NULL, buf, sizeof(buf));
    assert_string_equal(buf, "no response");
}

static void
test_path_escape(void **state)
{
    char *s;

    (void)state;
    s = kube_path_escape("plain-Name_1.x~");
    assert_string_equal(s, "plain-Name_1.x~");
    free(s);
    s = kube_path_escape("a b/c?d=e&f%g");
    assert_string_equal(s, "a%20b%2Fc%3Fd%3De%26f%25g");
    free(s);
    s = kube_path_escape("app=web,tier in (a,b)");
    assert_string_equal(s, "app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
    free(s);
    s = kube_path_escape("\xc3\xa9");
    assert_string_equal(s, "%C3%A9");
    free(s);
    s = kube_path_escape("");
    assert_string_equal(s, "");
    free(s);
    assert_null(kube_path_escape(NULL));
}

static void
test_retry_after_parse(void **state)
{
    time_t now = 1700000000;
    char date[64];
    struct tm tm;
    time_t later = now + 30;

    (void)state;
    assert_int_equal(kube_retry_after_parse("5", now), 5);
    assert_int_equal(kube_retry_after_parse("  12 ", now), 12);
    assert_int_equal(kube_retry_after_parse("0", now), 0);
    assert_int_equal(kube_retry_after_parse("99999999999", now), 86400);
    assert_int_equal(kube_retry_after_parse("abc", now), -1);
    assert_int_equal(kube_retry_after_parse("5s", now), -1);
    assert_int_equal(kube_retry_after_parse("", now), -1);
    assert_int_equal(kube_retry_after_parse(NULL, now), -1);
    gmtime_r(&later, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_int_equal(kube_retry_after_parse(date, now), 30);
    assert_int_equal(kube_retry_after_parse(date, now + 100), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_keepalive_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warning_header_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_429_with_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_give_up_returns_last_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_retry_then_give_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_rereads_token_file_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_token_file_used_without_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_token_401_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transport_error_retried_then_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods_and_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_server_name_routes_via_connect_to, setup, teardown),
        cmocka_unit_test(test_status_text_and_error_mapping),
        cmocka_unit_test(test_path_escape),
        cmocka_unit_test(test_retry_after_parse),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
