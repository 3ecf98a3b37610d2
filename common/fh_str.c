/*
 * fh_str.c - NULL-tolerant string comparison and replacement. Owns nothing
 * beyond the copies it hands to the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "fh_str.h"

/* fh_streq - see header */
bool
fh_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* fh_strset - see header */
int
fh_strset(char **dst, const char *src)
{
    free(*dst);
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -FH_ENOMEM;
}
