/*
 * fh_names.c - Kubernetes name syntax checks (RFC 1123 labels and
 * subdomains, as apimachinery's validation applies them). Owns nothing.
 */
#include <stdbool.h>
#include <string.h>

#include "fh_spec.h"

/* is_lower_alnum - [a-z0-9] */
static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* label_ok - n bytes at s form one RFC 1123 label (length checked by callers) */
static bool
label_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* fh_dns1123_label - namespaces */
bool
fh_dns1123_label(const char *s)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    return n <= FH_DNS1123_LABEL_MAX && label_ok(s, n);
}

/* fh_dns1123_subdomain - Secret (and most other object) names */
bool
fh_dns1123_subdomain(const char *s)
{
    size_t n;
    const char *p;

    if (!s)
        return false;
    n = strlen(s);
    if (n == 0 || n > FH_DNS1123_SUBDOMAIN_MAX)
        return false;
    /* Kubernetes does not cap the length of each dot-separated part of a
     * subdomain at 63, only the whole name; mirror that. */
    for (p = s;;) {
        const char *dot = strchr(p, '.');
        size_t part = dot ? (size_t)(dot - p) : strlen(p);

        if (!label_ok(p, part))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}
