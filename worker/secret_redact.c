/*
 * secret_redact.c - does a piece of text (an apiserver or webhook message)
 * quote a value of a Secret? Used before such text goes into a status, a
 * result or a log line. Every decoded value is wiped after the check; owns
 * nothing afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "secret_mem.h"

/* Shorter values ("1", "yes") would match ordinary words and numbers. */
#define MIN_QUOTE_LEN 4u

/* b64_val - value of one base64 character, -1 for anything else */
static int
b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* b64_decode - lenient decode (padding and junk skipped) into a new
 * NUL-terminated buffer; *n its length. NULL on allocation failure. */
static char *
b64_decode(const char *in, size_t *n)
{
    size_t len = strlen(in), o = 0;
    unsigned acc = 0;
    int bits = 0;
    char *out = malloc(len / 4 * 3 + 4);

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val((unsigned char)in[i]);

        if (v < 0)
            continue;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = '\0';
    acc = 0;
    *n = o;
    return out;
}

/* contains - text holds the n bytes at needle (needle may hold NULs) */
static bool
contains(const char *text, const char *needle, size_t n)
{
    if (n < MIN_QUOTE_LEN)
        return false;
    return memmem(text, strlen(text), needle, n) != NULL;
}

/* quotes_map - any value of the data-like map obj appears in text; when
 * decode is set the values are base64 and their plaintext is checked too */
static bool
quotes_map(const char *text, const cJSON *obj, bool decode)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj) {
        bool hit;

        if (!cJSON_IsString(it))
            continue;
        hit = contains(text, it->valuestring, strlen(it->valuestring));
        if (!hit && decode) {
            size_t n = 0;
            char *plain = b64_decode(it->valuestring, &n);

            /* No memory to check with: assume the worst. */
            hit = !plain || contains(text, plain, n);
            if (plain) {
                secret_wipe(plain, n);
                free(plain);
            }
        }
        if (hit)
            return true;
    }
    return false;
}

/* bundle_text_quotes_secret - see bundle.h */
bool
bundle_text_quotes_secret(const char *text, const cJSON *secret)
{
    if (!text || !*text || !secret)
        return false;
    return quotes_map(text, cJSON_GetObjectItemCaseSensitive(secret, "data"), true)
           || quotes_map(text, cJSON_GetObjectItemCaseSensitive(secret, "stringData"), false);
}
