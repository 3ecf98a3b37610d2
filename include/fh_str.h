/*
 * fh_str.h - small string helpers shared by several modules.
 */
#ifndef FH_STR_H
#define FH_STR_H

#include <stdbool.h>

/* fh_streq - equality where NULL equals only NULL */
bool fh_streq(const char *a, const char *b);

/* fh_strset - replace the owned string *dst by a copy of src (NULL allowed);
 * returns 0 or -FH_ENOMEM (then *dst is NULL) */
int fh_strset(char **dst, const char *src);

#endif
