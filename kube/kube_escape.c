/*
 * kube_escape.c - percent-encoding of path segments and query values
 * (RFC 3986: everything but unreserved characters is escaped). Owns nothing
 * beyond the string it returns.
 */
#include <stdlib.h>
#include <string.h>

#include "kube_client.h"

/* kube_path_escape - escape every byte outside A-Z a-z 0-9 - . _ ~ */
char *
kube_path_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    char *out, *o;

    if (!s)
        return NULL;
    for (const char *p = s; *p; p++)
        n++;
    out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}
