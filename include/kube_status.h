/*
 * kube_status.h - reading metav1.Status objects (the apiserver's error body,
 * also the object of a watch ERROR event) without touching other bodies.
 *
 * Ownership: the out-strings of kube_status_fields() are borrowed from the
 * cJSON tree passed in. Nothing here allocates memory that outlives a call.
 */
#ifndef KUBE_STATUS_H
#define KUBE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* kube_status_fields - if obj is a Status (kind == "Status"), set *code
 * (0 if absent or not a number in [100, 999]), *reason and *message (NULL
 * if absent) and return true; otherwise return false and leave the outputs
 * untouched. Any output may be NULL. */
bool kube_status_fields(const struct cJSON *obj, long *code,
                        const char **reason, const char **message);

/* kube_status_format - "Reason: message" (single line, truncated to len)
 * from a Status object, or "HTTP <status>" when obj is not a Status */
void kube_status_format(const struct cJSON *obj, long status, char *buf, size_t len);

/* kube_status_body - parse body (len bytes, need not be NUL-terminated)
 * only if it looks like a Status and is one; fills like kube_status_fields
 * and formats into buf (may be NULL). Returns the Status code, or 0 when the
 * body is not a Status. *reason_is_already_exists says whether the reason
 * is "AlreadyExists"; *reason_is_expired whether it is "Expired"/"Gone"
 * (either may be NULL). Bodies are wiped after parsing. */
long kube_status_body(const char *body, size_t len, long status, char *buf, size_t buflen,
                      bool *reason_is_already_exists, bool *reason_is_expired);

#endif
