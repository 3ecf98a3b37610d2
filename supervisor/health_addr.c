/*
 * health_addr.c - parse controller-runtime style bind addresses and open
 * the health probes' listening socket. Owns nothing: the socket it opens is
 * handed to the caller.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_err.h"
#include "health.h"

#define LISTEN_BACKLOG 64

/* parse_port - 1..5 decimal digits, <= 65535 */
static int
parse_port(const char *s, uint16_t *out)
{
    unsigned long v = 0;
    size_t n = 0;

    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return -FH_EINVAL;
        v = v * 10 + (unsigned long)(s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return -FH_EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* health_parse_addr - split host and port like Go's net.SplitHostPort */
int
health_parse_addr(const char *addr, struct health_addr *out)
{
    const char *colon, *host;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (!addr)
        return -FH_EINVAL;
    if (addr[0] == '\0' || strcmp(addr, "0") == 0) {
        out->disabled = true;
        return 0;
    }
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');

        if (!close || close[1] != ':')
            return -FH_EINVAL;
        host = addr + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
        if (hlen == 0 || !memchr(host, ':', hlen))
            return -FH_EINVAL;              /* brackets are for IPv6 literals */
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -FH_EINVAL;              /* missing port */
        host = addr;
        hlen = (size_t)(colon - addr);
        if (memchr(host, ':', hlen) || memchr(host, '[', hlen) || memchr(host, ']', hlen))
            return -FH_EINVAL;              /* too many colons: needs brackets */
    }
    if (hlen >= sizeof(out->host))
        return -FH_EINVAL;
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)host[i] <= ' ' || (unsigned char)host[i] >= 0x7f)
            return -FH_EINVAL;
    if (parse_port(colon + 1, &out->port) < 0)
        return -FH_EINVAL;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->any = hlen == 0;
    return 0;
}

/* try_bind - socket + bind + listen on one address; fd or -errno */
static int
try_bind(const struct sockaddr *sa, socklen_t salen, bool dual_stack)
{
    int one = 1, zero = 0, err;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int)) < 0)
        goto fail;
    if (bind(fd, sa, salen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
        goto fail;
    return fd;
fail:
    err = errno;
    close(fd);
    return -err;
}

/* bound_port - the port getsockname reports */
static uint16_t
bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* listen_any - "::" dual-stack, falling back to 0.0.0.0 without IPv6 */
static int
listen_any(uint16_t port)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    int fd;

    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    s6.sin6_addr = in6addr_any;
    s6.sin6_port = htons(port);
    fd = try_bind((struct sockaddr *)&s6, sizeof(s6), true);
    if (fd >= 0 || (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL && fd != -EPROTONOSUPPORT))
        return fd;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_addr.s_addr = htonl(INADDR_ANY);
    s4.sin_port = htons(port);
    return try_bind((struct sockaddr *)&s4, sizeof(s4), false);
}

/* listen_host - resolve host and bind the first address that works */
static int
listen_host(const char *host, uint16_t port)
{
    struct addrinfo hints, *res = NULL;
    char pbuf[8];
    int fd = -FH_EINVAL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(pbuf, sizeof(pbuf), "%u", (unsigned)port);
    if (getaddrinfo(host, pbuf, &hints, &res) != 0 || !res)
        return -FH_EINVAL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = try_bind(ai->ai_addr, ai->ai_addrlen, false);
        if (fd >= 0)
            break;
    }
    freeaddrinfo(res);
    return fd;
}

/* health_listen - open the listening socket */
int
health_listen(const char *addr, int *fd_out, uint16_t *port_out)
{
    struct health_addr a;
    int rc, fd;

    *fd_out = -1;
    if (port_out)
        *port_out = 0;
    if ((rc = health_parse_addr(addr, &a)) < 0)
        return rc;
    if (a.disabled)
        return 0;
    fd = a.any ? listen_any(a.port) : listen_host(a.host, a.port);
    if (fd < 0)
        return fd;
    *fd_out = fd;
    if (port_out)
        *port_out = bound_port(fd);
    return 0;
}
