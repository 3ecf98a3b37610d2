/*
 * health_http.c - the HTTP/1.x subset the health server speaks: find and
 * parse one request head, format one small response. Pure functions over
 * caller buffers; owns nothing.
 */
#include <stdio.h>
#include <string.h>

#include "fh_err.h"
#include "health.h"

/* head_end - length of the request head including the blank line, 0 if the
 * blank line ("\r\n\r\n" or bare "\n\n") has not arrived yet */
static size_t
head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* has_verbose - query string contains the parameter "verbose" */
static bool
has_verbose(const char *q, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t j = i;

        while (j < len && q[j] != '&')
            j++;
        if ((j - i == 7 || (j - i > 7 && q[i + 7] == '=')) && memcmp(q + i, "verbose", 7) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

/* health_http_parse - parse the request line of a complete head */
int
health_http_parse(const char *buf, size_t len, struct health_req *req)
{
    size_t end = head_end(buf, len);
    size_t i = 0, t0, t1, qpos, plen;

    memset(req, 0, sizeof(*req));
    if (end == 0) {
        /* a NUL or a request line that is plainly not HTTP fails early */
        if (memchr(buf, '\0', len))
            return -FH_EPROTO;
        return -FH_EAGAIN;
    }
    if (memchr(buf, '\0', end))
        return -FH_EPROTO;
    /* method: 1..7 upper-case letters */
    while (i < end && buf[i] >= 'A' && buf[i] <= 'Z')
        i++;
    if (i == 0 || i >= sizeof(req->method) || buf[i] != ' ')
        return -FH_EPROTO;
    memcpy(req->method, buf, i);
    i++;
    /* target: visible ASCII up to the next space */
    t0 = i;
    while (i < end && buf[i] > ' ' && buf[i] < 0x7f)
        i++;
    t1 = i;
    if (t1 == t0 || i >= end || buf[i] != ' ' || buf[t0] != '/')
        return -FH_EPROTO;
    i++;
    /* version: HTTP/1.0 or HTTP/1.1, then end of line */
    if (end - i < 9 || memcmp(buf + i, "HTTP/1.", 7) != 0 ||
        (buf[i + 7] != '0' && buf[i + 7] != '1'))
        return -FH_EPROTO;
    i += 8;
    if (buf[i] == '\r')
        i++;
    if (buf[i] != '\n')
        return -FH_EPROTO;
    /* split off the query */
    qpos = t0;
    while (qpos < t1 && buf[qpos] != '?' && buf[qpos] != '#')
        qpos++;
    plen = qpos - t0;
    if (plen >= sizeof(req->path))
        return -FH_ETOOBIG;
    memcpy(req->path, buf + t0, plen);
    req->path[plen] = '\0';
    if (qpos < t1 && buf[qpos] == '?') {
        size_t qend = qpos + 1;

        while (qend < t1 && buf[qend] != '#')
            qend++;
        req->verbose = has_verbose(buf + qpos + 1, qend - qpos - 1);
    }
    return 0;
}

/* reason - status line text */
static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default:  return "Error";
    }
}

/* health_http_format_ct - one complete response */
int
health_http_format_ct(char *buf, size_t cap, int status, const char *content_type,
                      const char *body, size_t blen, bool head)
{
    int w;

    w = snprintf(buf, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "X-Content-Type-Options: nosniff\r\n"
                 "%s"
                 "Content-Length: %zu\r\n"
                 "Connection: close\r\n"
                 "\r\n",
                 status, reason(status), content_type,
                 status == 405 ? "Allow: GET, HEAD\r\n" : "", blen);
    if (w < 0 || (size_t)w >= cap)
        return -FH_ETOOBIG;
    if (head || !body || !blen)
        return w;
    if (blen >= cap - (size_t)w)
        return -FH_ETOOBIG;
    memcpy(buf + w, body, blen);
    buf[w + (int)blen] = '\0';
    return w + (int)blen;
}

/* health_http_format - one complete text/plain response */
int
health_http_format(char *buf, size_t cap, int status, const char *body, bool head)
{
    return health_http_format_ct(buf, cap, status, "text/plain; charset=utf-8", body,
                                 body ? strlen(body) : 0, head);
}
