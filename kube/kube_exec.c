/*
 * kube_exec.c - running an exec credential plugin and reading its
 * ExecCredential (see kube_exec.h for the contract).
 *
 * Our processes have ZeroMQ and libcurl threads, so nothing between fork()
 * and execve() may allocate or take a lock: the command is looked up in PATH
 * and the environment array is built before forking, and the child only
 * dup2()s, closes and execs. The parent waits in poll() on the plugin's
 * stdout, stderr and a pidfd, with a deadline after which the plugin is
 * killed. Owns the struct kube_exec it frees and every buffer it reads the
 * plugin's output into (wiped: the output is a credential).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "fh_err.h"
#include "fh_time.h"
#include "kube_config.h"
#include "kube_exec.h"
#include "kube_token.h"
#include "kube_util.h"
#include "secret_mem.h"

extern char **environ;

#define STDERR_KEEP 512         /* bytes of the plugin's stderr kept for the error */

/* free_strv - free a NULL-terminated owned string array */
static void
free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* kube_exec_free - see header */
void
kube_exec_free(struct kube_exec **x)
{
    if (!x || !*x)
        return;
    free((*x)->api_version);
    free_strv((*x)->argv);
    if ((*x)->env)              /* env values may be credentials (API keys) */
        for (char **p = (*x)->env; *p; p++)
            secret_wipe(*p, strlen(*p));
    free_strv((*x)->env);
    free((*x)->install_hint);
    free(*x);
    *x = NULL;
}

/* add_b64 - base64 of len bytes as a string member of obj */
static int
add_b64(cJSON *obj, const char *name, const char *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    unsigned char *b = malloc(cap);
    int ok;

    if (!b)
        return -FH_ENOMEM;
    EVP_EncodeBlock(b, (const unsigned char *)data, (int)len);
    ok = cJSON_AddStringToObject(obj, name, (const char *)b) != NULL;
    free(b);
    return ok ? 0 : -FH_ENOMEM;
}

/* kube_exec_info - see header */
int
kube_exec_info(const struct kube_config *cfg, char **out)
{
    const struct kube_exec *x = cfg->exec;
    cJSON *root = cJSON_CreateObject(), *spec = NULL, *cl;
    char *json = NULL;
    int rc = -FH_ENOMEM;

    *out = NULL;
    if (!root || !x)
        goto out;
    if (!cJSON_AddStringToObject(root, "apiVersion", x->api_version) ||
        !cJSON_AddStringToObject(root, "kind", "ExecCredential") ||
        !(spec = cJSON_AddObjectToObject(root, "spec")) ||
        !cJSON_AddBoolToObject(spec, "interactive", false))
        goto out;
    if (x->provide_cluster_info) {
        if (!(cl = cJSON_AddObjectToObject(spec, "cluster")) ||
            !cJSON_AddStringToObject(cl, "server", cfg->server) ||
            (cfg->tls_server_name &&
             !cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name)) ||
            (cfg->insecure_skip_tls_verify &&
             !cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true)))
            goto out;
        if (cfg->ca_data && add_b64(cl, "certificate-authority-data", cfg->ca_data,
                                    cfg->ca_data_len) < 0)
            goto out;
    }
    json = cJSON_PrintUnformatted(root);
    if (!json)
        goto out;
    *out = malloc(strlen(json) + sizeof("KUBERNETES_EXEC_INFO="));
    if (!*out)
        goto out;
    sprintf(*out, "KUBERNETES_EXEC_INFO=%s", json);
    rc = 0;
out:
    free(json);
    cJSON_Delete(root);
    return rc;
}

/* digits - n decimal digits at s into *v */
static bool
digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* kube_exec_rfc3339 - see header */
int
kube_exec_rfc3339(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    const char *p;

    memset(&tm, 0, sizeof(tm));
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return -FH_EINVAL;
    p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return -FH_EINVAL;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1]) {
        sign = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) &&
               p[3] == ':' && digits(p + 4, 2, &om) && oh < 24 && om < 60) {
        sign = *p == '+' ? 1 : -1;
    } else {
        return -FH_EINVAL;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -FH_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

/* wipe_member - wipe a string member before the tree is freed */
static void
wipe_member(cJSON *obj, const char *name)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (cJSON_IsString(it) && it->valuestring)
        secret_wipe(it->valuestring, strlen(it->valuestring));
}

/* kube_exec_parse - see header */
int
kube_exec_parse(const char *json, size_t len, const char *api_version, char **token,
                int64_t *expiry_unix, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len), *st, *tok, *exp, *av, *kind;
    int rc = -FH_ECONFIG;

    *token = NULL;
    *expiry_unix = 0;
    if (!root) {
        snprintf(err, errlen, "output is not JSON");
        goto out;
    }
    kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0) {
        snprintf(err, errlen, "output is not an ExecCredential");
        goto out;
    }
    if (!cJSON_IsString(av) || strcmp(av->valuestring, api_version) != 0) {
        snprintf(err, errlen, "ExecCredential apiVersion %.80s, the kubeconfig asks for %s",
                 cJSON_IsString(av) ? av->valuestring : "(missing)", api_version);
        goto out;
    }
    st = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsObject(st)) {
        snprintf(err, errlen, "ExecCredential has no status");
        goto out;
    }
    tok = cJSON_GetObjectItemCaseSensitive(st, "token");
    if (!cJSON_IsString(tok) || !tok->valuestring[0]) {
        if (cJSON_GetObjectItemCaseSensitive(st, "clientCertificateData"))
            snprintf(err, errlen, "the plugin answers with a client certificate; only "
                     "bearer tokens from exec plugins are supported");
        else
            snprintf(err, errlen, "ExecCredential status has no token");
        goto out;
    }
    if (strpbrk(tok->valuestring, "\r\n") || strlen(tok->valuestring) > KUBE_TOKEN_MAX) {
        snprintf(err, errlen, "the token has a line break or is over %u bytes", KUBE_TOKEN_MAX);
        goto out;
    }
    exp = cJSON_GetObjectItemCaseSensitive(st, "expirationTimestamp");
    if (exp && !cJSON_IsNull(exp) &&
        (!cJSON_IsString(exp) || kube_exec_rfc3339(exp->valuestring, expiry_unix) < 0)) {
        snprintf(err, errlen, "status.expirationTimestamp is not an RFC 3339 time");
        goto out;
    }
    *token = strdup(tok->valuestring);
    rc = *token ? 0 : -FH_ENOMEM;
out:
    if (root) {
        st = cJSON_GetObjectItemCaseSensitive(root, "status");
        wipe_member(st, "token");
        wipe_member(st, "clientKeyData");
        cJSON_Delete(root);
    }
    return rc;
}

/* look_path - the command as execve needs it: itself when it names a path,
 * else the first executable PATH entry (PATH from our environment, as
 * client-go does). *out owned by the caller. -ENOENT when not found. */
static int
look_path(const char *cmd, char **out)
{
    const char *path = getenv("PATH");
    char *list, *save = NULL, *dir;

    *out = NULL;
    if (strchr(cmd, '/')) {
        *out = strdup(cmd);
        return *out ? 0 : -FH_ENOMEM;
    }
    list = strdup(path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
    if (!list)
        return -FH_ENOMEM;
    for (dir = strtok_r(list, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *cand = kube_path_join(dir[0] ? dir : ".", cmd);

        if (!cand) {
            free(list);
            return -FH_ENOMEM;
        }
        if (access(cand, X_OK) == 0) {
            *out = cand;
            break;
        }
        free(cand);
    }
    free(list);
    return *out ? 0 : -ENOENT;
}

/* build_env - environ with the kubeconfig's entries and info replacing
 * same-named variables; the array is owned, the strings borrowed */
static int
build_env(const struct kube_exec *x, const char *info, char ***out)
{
    size_t n = 0, k = 0;
    char **v;

    for (char **e = environ; e && *e; e++)
        n++;
    v = calloc(n + x->envc + 2, sizeof(*v));
    if (!v)
        return -FH_ENOMEM;
    for (char **e = environ; e && *e; e++) {
        size_t nl = strcspn(*e, "=");
        bool replaced = strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) == 0;

        for (size_t i = 0; i < x->envc && !replaced; i++)
            replaced = strncmp(*e, x->env[i], nl + 1) == 0;
        if (!replaced)
            v[k++] = *e;
    }
    for (size_t i = 0; i < x->envc; i++)
        v[k++] = x->env[i];
    v[k++] = (char *)info;
    v[k] = NULL;
    *out = v;
    return 0;
}

/* spawn - fork + execve with stdin /dev/null and stdout/stderr to pipes */
static pid_t
spawn(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
      int null_fd)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    /* async-signal-safe calls only from here on */
    if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    syscall(SYS_close_range, 3U, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    execve(path, argv, envp);
    {
        static const char msg[] = "cannot execute the plugin\n";
        ssize_t w = write(2, msg, sizeof(msg) - 1);

        (void)w;
    }
    _exit(127);
}

/* struct run - one plugin run's pipes and output */
struct run {
    int out[2], err[2], null_fd, pidfd;
    pid_t pid;
    char *buf;                  /* stdout (owned, wiped) */
    size_t len;
    char errtext[STDERR_KEEP + 1];
    size_t errlen;
    bool too_big, timed_out;
    int status;
};

/* drain - read what fd has; *open = false on EOF */
static void
drain(struct run *r, int fd, bool is_out, bool *open)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        *open = false;
        return;
    }
    if (!is_out) {
        size_t keep = STDERR_KEEP - r->errlen;

        if ((size_t)n < keep)
            keep = (size_t)n;
        memcpy(r->errtext + r->errlen, chunk, keep);
        r->errlen += keep;
        r->errtext[r->errlen] = '\0';
        return;
    }
    if (r->len + (size_t)n > KUBE_EXEC_OUTPUT_MAX) {
        r->too_big = true;
        *open = false;
    } else {
        memcpy(r->buf + r->len, chunk, (size_t)n);
        r->len += (size_t)n;
    }
    secret_wipe(chunk, sizeof(chunk));
}

/* wait_run - collect output until both pipes close and the plugin exits,
 * or the deadline passes (then kill it) */
static void
wait_run(struct run *r, int timeout_ms)
{
    uint64_t deadline = fh_now_ms() + (uint64_t)timeout_ms;
    bool out_open = true, err_open = true, exited = false;

    while ((out_open || err_open || (!exited && r->pidfd >= 0)) && !r->too_big) {
        struct pollfd p[3];
        int n = 0, i_out = -1, i_err = -1, i_pid = -1;
        uint64_t now = fh_now_ms();

        if (now >= deadline) {
            r->timed_out = true;
            break;
        }
        if (out_open) {
            i_out = n;
            p[n++] = (struct pollfd){ .fd = r->out[0], .events = POLLIN };
        }
        if (err_open) {
            i_err = n;
            p[n++] = (struct pollfd){ .fd = r->err[0], .events = POLLIN };
        }
        if (!exited && r->pidfd >= 0) {
            i_pid = n;
            p[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
        }
        if (poll(p, (nfds_t)n, (int)(deadline - now)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (i_out >= 0 && p[i_out].revents)
            drain(r, r->out[0], true, &out_open);
        if (i_err >= 0 && p[i_err].revents)
            drain(r, r->err[0], false, &err_open);
        if (i_pid >= 0 && p[i_pid].revents)
            exited = true;
    }
    if (r->timed_out || r->too_big)
        kill(r->pid, SIGKILL);
    while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
        ;
}

/* first_line - the first non-empty line of the plugin's stderr, for errors */
static const char *
first_line(struct run *r)
{
    char *s = r->errtext, *nl;

    while (*s == '\n' || *s == '\r' || *s == ' ')
        s++;
    if ((nl = strpbrk(s, "\r\n")))
        *nl = '\0';
    return s;
}

/* kube_exec_token - see header */
int
kube_exec_token(const struct kube_exec *x, const char *info, int timeout_ms, char **token,
                int64_t *expiry_unix, char *err, size_t errlen)
{
    struct run r = { .out = { -1, -1 }, .err = { -1, -1 }, .null_fd = -1, .pidfd = -1,
                     .pid = -1 };
    char **envp = NULL, *path = NULL, perr[256];
    const char *hint = x->install_hint ? x->install_hint : "";
    int rc;

    *token = NULL;
    *expiry_unix = 0;
    err[0] = '\0';
    rc = look_path(x->argv[0], &path);
    if (rc == -ENOENT) {
        snprintf(err, errlen, "exec plugin %s not found in PATH%s%s", x->argv[0],
                 hint[0] ? ": " : "", hint);
        rc = -FH_ECONFIG;
        goto out;
    }
    if (rc < 0 || (rc = build_env(x, info, &envp)) < 0)
        goto out;
    r.buf = malloc(KUBE_EXEC_OUTPUT_MAX);
    if (!r.buf) {
        rc = -FH_ENOMEM;
        goto out;
    }
    if (pipe2(r.out, O_CLOEXEC) < 0 || pipe2(r.err, O_CLOEXEC) < 0 ||
        (r.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        goto out;
    }
    r.pid = spawn(path, x->argv, envp, r.out[1], r.err[1], r.null_fd);
    if (r.pid < 0) {
        rc = -errno;
        goto out;
    }
    close(r.out[1]);
    close(r.err[1]);
    r.out[1] = r.err[1] = -1;
    r.pidfd = (int)syscall(SYS_pidfd_open, r.pid, 0);   /* -1 on old kernels: pipes only */
    wait_run(&r, timeout_ms);
    rc = -FH_ECONFIG;
    if (r.timed_out) {
        snprintf(err, errlen, "exec plugin %s did not answer within %d s", x->argv[0],
                 timeout_ms / 1000);
    } else if (r.too_big) {
        snprintf(err, errlen, "exec plugin %s printed more than %u bytes", x->argv[0],
                 KUBE_EXEC_OUTPUT_MAX);
    } else if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
        bool cannot_run = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127;

        snprintf(err, errlen, "exec plugin %s %s %d: %.200s%s%.200s", x->argv[0],
                 WIFEXITED(r.status) ? "exited" : "killed by signal",
                 WIFEXITED(r.status) ? WEXITSTATUS(r.status) : WTERMSIG(r.status),
                 first_line(&r)[0] ? first_line(&r) : "(no output on stderr)",
                 cannot_run && hint[0] ? "; " : "", cannot_run ? hint : "");
    } else if ((rc = kube_exec_parse(r.buf, r.len, x->api_version, token, expiry_unix, perr,
                                     sizeof(perr))) == -FH_ECONFIG) {
        snprintf(err, errlen, "exec plugin %s: %s", x->argv[0], perr);
    }
out:
    if (r.buf) {
        secret_wipe(r.buf, r.len);
        free(r.buf);
    }
    for (int i = 0; i < 2; i++) {
        if (r.out[i] >= 0)
            close(r.out[i]);
        if (r.err[i] >= 0)
            close(r.err[i]);
    }
    if (r.null_fd >= 0)
        close(r.null_fd);
    if (r.pidfd >= 0)
        close(r.pidfd);
    free(envp);
    free(path);
    return rc;
}
