/*
 * kube_config.c - kubeconfig files (parsed with libyaml's document API) and
 * the kube_config_load() search order. Owns the struct kube_config it builds
 * and frees it with kube_config_free(), wiping token and key material.
 *
 * Only what a client needs is read: the chosen context's cluster (server,
 * CA, insecure-skip-tls-verify, tls-server-name), user (token, tokenFile,
 * client certificate and key, exec credential plugin) and namespace. The
 * legacy auth-provider plugins and basic auth are refused with a clear error
 * instead of silently connecting unauthenticated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "fh_err.h"
#include "kube_config.h"
#include "kube_exec.h"
#include "kube_util.h"
#include "secret_mem.h"

#define KUBECONFIG_MAX (4u * 1024u * 1024u)

/* one kubeconfig being parsed */
struct kc_parse {
    const char *path;
    char *dir;              /* directory of path, for relative file references */
    yaml_document_t doc;
    char *err;
    size_t errlen;
};

/* kc_err - "<file>: <field>: <reason>" into the caller's buffer */
static int
kc_err(struct kc_parse *p, const char *field, const char *fmt, ...)
{
    char reason[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s: %s: %s", p->path, field, reason);
    return -FH_ECONFIG;
}

/* node_at - node by libyaml index, NULL if out of range */
static yaml_node_t *
node_at(struct kc_parse *p, int idx)
{
    return yaml_document_get_node(&p->doc, idx);
}

/* is_null - YAML null spellings (libyaml does not resolve implicit tags) */
static bool
is_null(const yaml_node_t *n)
{
    const char *v;

    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* map_get - value node of key in a mapping, NULL if absent or map is no mapping */
static yaml_node_t *
map_get(struct kc_parse *p, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *pair;

    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(p, pair->key);

        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return node_at(p, pair->value);
    }
    return NULL;
}

/* get_str - scalar value of map[key]: NULL when absent or null; an error
 * when it is a list/mapping or holds a NUL byte. field names it in errors. */
static int
get_str(struct kc_parse *p, yaml_node_t *map, const char *key, const char *field,
        const char **out)
{
    yaml_node_t *n = map_get(p, map, key);

    *out = NULL;
    if (is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return kc_err(p, field, "expected a string");
    if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
        return kc_err(p, field, "contains a NUL byte");
    *out = (const char *)n->data.scalar.value;
    return 0;
}

/* get_bool - YAML 1.1 booleans, as sigs.k8s.io/yaml accepts them */
static int
get_bool(struct kc_parse *p, yaml_node_t *map, const char *key, const char *field,
         bool *out)
{
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
                                       "y", "Y", "on", "On", "ON" };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
                                      "n", "N", "off", "Off", "OFF" };
    const char *v;
    int rc;

    *out = false;
    rc = get_str(p, map, key, field, &v);
    if (rc < 0 || !v)
        return rc;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return kc_err(p, field, "\"%s\" is not a boolean", v);
}

/* find_named - in the top-level list `list` (of {name: X, <inner>: {...}}),
 * the <inner> node of the entry named name. *found says whether the entry
 * exists; its inner node may still be NULL (e.g. "user: {}" or absent). */
static int
find_named(struct kc_parse *p, const char *list, const char *name, const char *inner,
           yaml_node_t **out, bool *found)
{
    yaml_node_t *seq = map_get(p, yaml_document_get_root_node(&p->doc), list);

    *out = NULL;
    *found = false;
    if (is_null(seq))
        return 0;
    if (seq->type != YAML_SEQUENCE_NODE)
        return kc_err(p, list, "expected a list");
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *entry = node_at(p, *it);
        yaml_node_t *n = map_get(p, entry, "name");

        if (n && n->type == YAML_SCALAR_NODE && strcmp((char *)n->data.scalar.value, name) == 0) {
            *found = true;
            *out = map_get(p, entry, inner);
            if (!is_null(*out) && (*out)->type != YAML_MAPPING_NODE)
                return kc_err(p, list, "entry \"%s\": %s is not a mapping", name, inner);
            if (is_null(*out))
                *out = NULL;
            return 0;
        }
    }
    return 0;
}

/* set_file - resolve a file reference against the kubeconfig's directory and
 * check it is readable now, so a typo is reported here and not as a TLS error */
static int
set_file(struct kc_parse *p, const char *value, const char *field, char **dst)
{
    char *path;

    path = kube_path_join(p->dir, value);
    if (!path)
        return -FH_ENOMEM;
    if (access(path, R_OK) < 0) {
        int e = errno;

        free(path);
        return kc_err(p, field, "cannot read %s: %s", value, strerror(e));
    }
    *dst = path;
    return 0;
}

/* set_b64 - decode a *-data field */
static int
set_b64(struct kc_parse *p, const char *value, const char *field, char **dst, size_t *len)
{
    int rc = kube_b64_decode(value, strlen(value), dst, len);

    if (rc == -FH_EINVAL)
        return kc_err(p, field, "invalid base64");
    return rc;
}

/* dup_field - strdup or -FH_ENOMEM */
static int
dup_field(const char *v, char **dst)
{
    *dst = strdup(v);
    return *dst ? 0 : -FH_ENOMEM;
}

/* parse_cluster - server, CA, TLS switches of the chosen cluster */
static int
parse_cluster(struct kc_parse *p, yaml_node_t *cl, const char *cname, struct kube_config *c)
{
    char field[320];
    const char *v, *host;
    size_t n;
    int rc;

#define FIELD(k) (snprintf(field, sizeof(field), "clusters[name=%s].cluster.%s", cname, (k)), field)
    if ((rc = get_str(p, cl, "server", FIELD("server"), &v)) < 0)
        return rc;
    if (!v || !v[0])
        return kc_err(p, FIELD("server"), "missing");
    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        return kc_err(p, field, "\"%s\" is not an http:// or https:// URL", v);
    if ((rc = dup_field(v, &c->server)) < 0)
        return rc;
    n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = '\0';
    host = strstr(c->server, "://") + 3;
    if (!*host || *host == '/' || strpbrk(host, "?#@ \t\r\n"))
        return kc_err(p, field, "\"%s\" is not a plain http(s)://host[:port] URL", v);

    if ((rc = get_str(p, cl, "certificate-authority-data", FIELD("certificate-authority-data"), &v)) < 0)
        return rc;
    if (v && (rc = set_b64(p, v, field, &c->ca_data, &c->ca_data_len)) < 0)
        return rc;
    if ((rc = get_str(p, cl, "certificate-authority", FIELD("certificate-authority"), &v)) < 0)
        return rc;
    if (v && !c->ca_data && (rc = set_file(p, v, field, &c->ca_file)) < 0)
        return rc;
    if ((rc = get_bool(p, cl, "insecure-skip-tls-verify", FIELD("insecure-skip-tls-verify"),
                       &c->insecure_skip_tls_verify)) < 0)
        return rc;
    if ((rc = get_str(p, cl, "tls-server-name", FIELD("tls-server-name"), &v)) < 0)
        return rc;
    if (v && v[0]) {
        if (strpbrk(v, "/:@ \t\r\n?#[]"))
            return kc_err(p, field, "\"%s\" is not a host name", v);
        if ((rc = dup_field(v, &c->tls_server_name)) < 0)
            return rc;
    }
#undef FIELD
    return 0;
}

/* str_list - a list of strings (args): NULL-terminated owned copy after the
 * first `skip` slots, which the caller fills */
static int
str_list(struct kc_parse *p, yaml_node_t *seq, const char *field, size_t skip, char ***out,
         size_t *n)
{
    size_t cap = skip + 1, k = skip;

    if (!is_null(seq) && seq->type != YAML_SEQUENCE_NODE)
        return kc_err(p, field, "expected a list of strings");
    if (!is_null(seq))
        cap += (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    *out = calloc(cap, sizeof(char *));
    if (!*out)
        return -FH_ENOMEM;
    for (yaml_node_item_t *it = is_null(seq) ? NULL : seq->data.sequence.items.start;
         it && it < seq->data.sequence.items.top; it++) {
        yaml_node_t *v = node_at(p, *it);

        if (!v || v->type != YAML_SCALAR_NODE ||
            strlen((char *)v->data.scalar.value) != v->data.scalar.length)
            return kc_err(p, field, "entry %zu is not a string", k - skip);
        if (!((*out)[k++] = strdup((char *)v->data.scalar.value)))
            return -FH_ENOMEM;
    }
    *n = k;
    return 0;
}

/* parse_exec - users[].user.exec: a client-go exec credential plugin */
static int
parse_exec(struct kc_parse *p, yaml_node_t *ex, const char *uname, struct kube_exec **out)
{
    char field[320];
    const char *v;
    yaml_node_t *env;
    struct kube_exec *x;
    size_t n = 0;
    int rc;

#define FIELD(k) (snprintf(field, sizeof(field), "users[name=%s].user.exec.%s", uname, (k)), field)
    if (ex->type != YAML_MAPPING_NODE)
        return kc_err(p, FIELD("(exec)"), "expected a mapping");
    if (!(x = *out = calloc(1, sizeof(*x))))
        return -FH_ENOMEM;
    if ((rc = get_str(p, ex, "apiVersion", FIELD("apiVersion"), &v)) < 0)
        return rc;
    if (!v || (strcmp(v, KUBE_EXEC_V1) != 0 && strcmp(v, KUBE_EXEC_V1BETA1) != 0))
        return kc_err(p, field, "must be %s or %s", KUBE_EXEC_V1, KUBE_EXEC_V1BETA1);
    if ((rc = dup_field(v, &x->api_version)) < 0)
        return rc;
    if ((rc = get_str(p, ex, "command", FIELD("command"), &v)) < 0)
        return rc;
    if (!v || !v[0])
        return kc_err(p, field, "missing");
    if ((rc = str_list(p, map_get(p, ex, "args"), FIELD("args"), 1, &x->argv, &x->argc)) < 0)
        return rc;
    /* like client-go: a relative path with a '/' is relative to the kubeconfig */
    x->argv[0] = strchr(v, '/') ? kube_path_join(p->dir, v) : strdup(v);
    if (!x->argv[0])
        return -FH_ENOMEM;
    if ((rc = get_str(p, ex, "installHint", FIELD("installHint"), &v)) < 0)
        return rc;
    if (v && v[0] && (rc = dup_field(v, &x->install_hint)) < 0)
        return rc;
    if ((rc = get_bool(p, ex, "provideClusterInfo", FIELD("provideClusterInfo"),
                       &x->provide_cluster_info)) < 0)
        return rc;
    if ((rc = get_str(p, ex, "interactiveMode", FIELD("interactiveMode"), &v)) < 0)
        return rc;
    if (v && strcmp(v, "Always") == 0)
        return kc_err(p, field, "Always: the plugin needs a terminal, and the operator has none");
    if (v && strcmp(v, "Never") != 0 && strcmp(v, "IfAvailable") != 0)
        return kc_err(p, field, "\"%s\" is not Never, IfAvailable or Always", v);

    env = map_get(p, ex, "env");
    if (!is_null(env) && env->type != YAML_SEQUENCE_NODE)
        return kc_err(p, FIELD("env"), "expected a list of {name, value}");
    if (!is_null(env))
        n = (size_t)(env->data.sequence.items.top - env->data.sequence.items.start);
    if (!(x->env = calloc(n + 1, sizeof(char *))))
        return -FH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = node_at(p, env->data.sequence.items.start[i]);
        const char *name, *value;
        char idx[32];

        snprintf(idx, sizeof(idx), "env[%zu]", i);
        if (!e || e->type != YAML_MAPPING_NODE)
            return kc_err(p, FIELD(idx), "expected {name, value}");
        if ((rc = get_str(p, e, "name", FIELD(idx), &name)) < 0 ||
            (rc = get_str(p, e, "value", FIELD(idx), &value)) < 0)
            return rc;
        if (!name || !name[0] || strchr(name, '='))
            return kc_err(p, FIELD(idx), "name is missing or contains '='");
        if (!(x->env[i] = malloc(strlen(name) + strlen(value ? value : "") + 2)))
            return -FH_ENOMEM;
        sprintf(x->env[i], "%s=%s", name, value ? value : "");
        x->envc = i + 1;
    }
#undef FIELD
    return 0;
}

/* parse_user - credentials of the chosen user */
static int
parse_user(struct kc_parse *p, yaml_node_t *u, const char *uname, struct kube_config *c)
{
    char field[320];
    const char *v;
    int rc;

#define FIELD(k) (snprintf(field, sizeof(field), "users[name=%s].user.%s", uname, (k)), field)
    if (!is_null(map_get(p, u, "exec")) &&
        (rc = parse_exec(p, map_get(p, u, "exec"), uname, &c->exec)) < 0)
        return rc;
    if (!is_null(map_get(p, u, "auth-provider")))
        return kc_err(p, FIELD("auth-provider"),
                      "auth-provider credential plugins are not supported");
    if (!is_null(map_get(p, u, "username")) || !is_null(map_get(p, u, "password")))
        return kc_err(p, FIELD("username"), "basic authentication is not supported");

    if ((rc = get_str(p, u, "token", FIELD("token"), &v)) < 0)
        return rc;
    if (v && v[0]) {
        if (strpbrk(v, "\r\n"))
            return kc_err(p, field, "contains a line break");
        if ((rc = dup_field(v, &c->token)) < 0)
            return rc;
    }
    if ((rc = get_str(p, u, "tokenFile", FIELD("tokenFile"), &v)) < 0)
        return rc;
    if (v && v[0] && (rc = set_file(p, v, field, &c->token_file)) < 0)
        return rc;

    if ((rc = get_str(p, u, "client-certificate-data", FIELD("client-certificate-data"), &v)) < 0)
        return rc;
    if (v && (rc = set_b64(p, v, field, &c->client_cert_data, &c->client_cert_data_len)) < 0)
        return rc;
    if ((rc = get_str(p, u, "client-certificate", FIELD("client-certificate"), &v)) < 0)
        return rc;
    if (v && !c->client_cert_data && (rc = set_file(p, v, field, &c->client_cert_file)) < 0)
        return rc;
    if ((rc = get_str(p, u, "client-key-data", FIELD("client-key-data"), &v)) < 0)
        return rc;
    if (v && (rc = set_b64(p, v, field, &c->client_key_data, &c->client_key_data_len)) < 0)
        return rc;
    if ((rc = get_str(p, u, "client-key", FIELD("client-key"), &v)) < 0)
        return rc;
    if (v && !c->client_key_data && (rc = set_file(p, v, field, &c->client_key_file)) < 0)
        return rc;

    if (c->exec && (c->token || c->token_file))
        return kc_err(p, FIELD("exec"), "set either exec or token/tokenFile, not both");
    if ((c->client_cert_data || c->client_cert_file) && !(c->client_key_data || c->client_key_file))
        return kc_err(p, FIELD("client-key"), "missing (client-certificate is set)");
    if ((c->client_key_data || c->client_key_file) && !(c->client_cert_data || c->client_cert_file))
        return kc_err(p, FIELD("client-certificate"), "missing (client-key is set)");
#undef FIELD
    return 0;
}

/* parse_doc - walk the loaded document */
static int
parse_doc(struct kc_parse *p, const char *context, struct kube_config *c)
{
    yaml_node_t *root = yaml_document_get_root_node(&p->doc);
    yaml_node_t *ctx, *cl, *u;
    const char *cname, *uname, *ns;
    char field[320];
    bool found;
    int rc;

    if (!root || is_null(root))
        return kc_err(p, "(document)", "empty file");
    if (root->type != YAML_MAPPING_NODE)
        return kc_err(p, "(document)", "top level is not a mapping");
    if (!context || !context[0]) {
        if ((rc = get_str(p, root, "current-context", "current-context", &context)) < 0)
            return rc;
        if (!context || !context[0])
            return kc_err(p, "current-context", "not set and no context was given");
    }
    if ((rc = find_named(p, "contexts", context, "context", &ctx, &found)) < 0)
        return rc;
    if (!found)
        return kc_err(p, "contexts", "no context named \"%s\"", context);

    snprintf(field, sizeof(field), "contexts[name=%s].context.cluster", context);
    if ((rc = get_str(p, ctx, "cluster", field, &cname)) < 0)
        return rc;
    if (!cname || !cname[0])
        return kc_err(p, field, "missing");
    snprintf(field, sizeof(field), "contexts[name=%s].context.user", context);
    if ((rc = get_str(p, ctx, "user", field, &uname)) < 0)
        return rc;
    snprintf(field, sizeof(field), "contexts[name=%s].context.namespace", context);
    if ((rc = get_str(p, ctx, "namespace", field, &ns)) < 0)
        return rc;
    if (ns && ns[0] && (rc = dup_field(ns, &c->namespace)) < 0)
        return rc;

    if ((rc = find_named(p, "clusters", cname, "cluster", &cl, &found)) < 0)
        return rc;
    if (!found)
        return kc_err(p, "clusters", "no cluster named \"%s\" (used by context \"%s\")",
                      cname, context);
    if (!cl)
        return kc_err(p, "clusters", "cluster \"%s\" has no cluster settings", cname);
    if ((rc = parse_cluster(p, cl, cname, c)) < 0)
        return rc;

    if (uname && uname[0]) {
        if ((rc = find_named(p, "users", uname, "user", &u, &found)) < 0)
            return rc;
        if (!found)
            return kc_err(p, "users", "no user named \"%s\" (used by context \"%s\")",
                          uname, context);
        if (u && (rc = parse_user(p, u, uname, c)) < 0)
            return rc;
    }
    return dup_field(p->path, &c->source);
}

/* wipe_document - scalars may hold tokens and keys; libyaml frees without wiping */
static void
wipe_document(yaml_document_t *doc)
{
    for (yaml_node_t *n = doc->nodes.start; n && n < doc->nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE)
            secret_wipe(n->data.scalar.value, n->data.scalar.length);
}

/* wipe_parser - the parser's input buffers hold a copy of the whole file */
static void
wipe_parser(yaml_parser_t *ps)
{
    if (ps->buffer.start)
        secret_wipe(ps->buffer.start, (size_t)(ps->buffer.end - ps->buffer.start));
    if (ps->raw_buffer.start)
        secret_wipe(ps->raw_buffer.start,
                    (size_t)(ps->raw_buffer.end - ps->raw_buffer.start));
}

/* kube_config_load_file - parse one kubeconfig */
int
kube_config_load_file(const char *path, const char *context, struct kube_config **out,
                      char *err, size_t errlen)
{
    struct kc_parse p = { .path = path, .err = err, .errlen = errlen };
    struct kube_config *c = NULL;
    yaml_parser_t ps;
    bool have_parser = false, have_doc = false;
    char *text = NULL, *slash;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!path || !path[0])
        return kc_err(&p, "(file)", "no path given");
    rc = kube_read_file(path, KUBECONFIG_MAX, &text, &len);
    if (rc < 0) {
        rc = kc_err(&p, "(file)", "cannot read: %s", fh_strerror(rc));
        goto out;
    }
    p.dir = strdup(path);
    c = calloc(1, sizeof(*c));
    if (!p.dir || !c) {
        rc = -FH_ENOMEM;
        goto out;
    }
    slash = strrchr(p.dir, '/');
    if (!slash)
        p.dir[0] = '\0';           /* relative to the working directory */
    else if (slash == p.dir)
        slash[1] = '\0';           /* "/config" lives in "/" */
    else
        *slash = '\0';

    if (!yaml_parser_initialize(&ps)) {
        rc = -FH_ENOMEM;
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, &p.doc)) {
        rc = kc_err(&p, "(document)", "invalid YAML at line %lu: %s",
                    (unsigned long)ps.problem_mark.line + 1,
                    ps.problem ? ps.problem : "parse error");
        goto out;
    }
    have_doc = true;
    rc = parse_doc(&p, context, c);
    if (rc == -FH_ENOMEM)
        kc_err(&p, "(file)", "out of memory");
out:
    if (have_doc) {
        wipe_document(&p.doc);
        yaml_document_delete(&p.doc);
    }
    if (have_parser) {
        wipe_parser(&ps);
        yaml_parser_delete(&ps);
    }
    if (text)
        secret_free(&text, len);
    free(p.dir);
    if (rc < 0)
        kube_config_free(&c);
    *out = c;
    return rc < 0 ? rc : 0;
}

/* kube_config_load - explicit path, $KUBECONFIG, in-cluster, ~/.kube/config */
int
kube_config_load(const char *explicit_path, struct kube_config **out, char *err,
                 size_t errlen)
{
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    char *list = NULL, *save = NULL, *tok, *homecfg = NULL;
    struct stat st;
    int rc;

    *out = NULL;
    if (explicit_path && explicit_path[0])
        return kube_config_load_file(explicit_path, NULL, out, err, errlen);
    if (env && env[0]) {
        list = strdup(env);
        if (!list)
            return -FH_ENOMEM;
        for (tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
            if (stat(tok, &st) == 0) {
                rc = kube_config_load_file(tok, NULL, out, err, errlen);
                free(list);
                return rc;
            }
        }
        free(list);
    }
    if (getenv("KUBERNETES_SERVICE_HOST") && getenv("KUBERNETES_SERVICE_PORT"))
        return kube_config_load_incluster(NULL, out, err, errlen);
    if (home && home[0]) {
        homecfg = kube_path_join(home, ".kube/config");
        if (!homecfg)
            return -FH_ENOMEM;
        if (stat(homecfg, &st) == 0) {
            rc = kube_config_load_file(homecfg, NULL, out, err, errlen);
            free(homecfg);
            return rc;
        }
        free(homecfg);
    }
    if (err && errlen)
        snprintf(err, errlen, "no kubeconfig: no --kubeconfig, no existing file in "
                 "$KUBECONFIG, not in a cluster, no $HOME/.kube/config");
    return -FH_ECONFIG;
}

/* kube_config_free - wipe secrets and free */
void
kube_config_free(struct kube_config **cfg)
{
    struct kube_config *c;

    if (!cfg || !*cfg)
        return;
    c = *cfg;
    free(c->server);
    free(c->ca_file);
    free(c->ca_data);
    free(c->client_cert_file);
    secret_free(&c->client_cert_data, c->client_cert_data_len);
    free(c->client_key_file);
    secret_free(&c->client_key_data, c->client_key_data_len);
    secret_free(&c->token, 0);
    free(c->token_file);
    kube_exec_free(&c->exec);
    free(c->tls_server_name);
    free(c->namespace);
    free(c->source);
    secret_wipe(c, sizeof(*c));
    free(c);
    *cfg = NULL;
}
