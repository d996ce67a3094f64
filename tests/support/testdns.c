/* testdns.c — see testdns.h. One UDP socket, one thread, RFC 1035 messages. */
#include "testdns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum { DNS_MAX_ADDRS = 8, DNS_HEADER = 12, TYPE_A = 1, CLASS_IN = 1 };

struct sfp_test_dns {
    int fd, port;
    char name[256];
    struct in_addr addrs[DNS_MAX_ADDRS];
    size_t naddrs;
    atomic_bool stop;
    atomic_long answers;
    pthread_t th;
};

/* Reads the question name at msg[off..] as dotted text; returns the offset after it, or -1. */
static int read_qname(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap)
{
    size_t o = 0;
    while (off < len) {
        uint8_t l = msg[off++];
        if (l == 0) {
            out[o] = '\0';
            return (int)off;
        }
        if (l > 63 || off + l > len || o + l + 2 > cap) return -1; /* no compression in a question */
        if (o) out[o++] = '.';
        memcpy(out + o, msg + off, l);
        o += l;
        off += l;
    }
    return -1;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Builds the answer to query q into out; returns its length, or 0 to drop the query. */
static size_t answer(sfp_test_dns *d, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
    if (qlen < DNS_HEADER || (q[2] & 0x80) || q[4] != 0 || q[5] != 1) return 0; /* one question */
    char name[256];
    int end = read_qname(q, qlen, DNS_HEADER, name, sizeof name);
    if (end < 0 || (size_t)end + 4 > qlen) return 0;
    unsigned qtype = (unsigned)(q[end] << 8 | q[end + 1]);
    size_t qsec = (size_t)end + 4 - DNS_HEADER;
    size_t n = 0;
    bool ours = strcasecmp(name, d->name) == 0;
    if (ours && qtype == TYPE_A) n = d->naddrs;
    size_t need = DNS_HEADER + qsec + n * 16;
    if (need > cap) return 0;
    memcpy(out, q, 2);                         /* id */
    out[2] = (uint8_t)(0x84 | (q[2] & 0x79));  /* QR, AA, opcode and RD echoed */
    out[3] = (uint8_t)(0x80 | (ours ? 0 : 3)); /* RA; NOERROR or NXDOMAIN */
    put16(out + 4, 1);
    put16(out + 6, (unsigned)n);
    put16(out + 8, 0);
    put16(out + 10, 0);
    memcpy(out + DNS_HEADER, q + DNS_HEADER, qsec);
    uint8_t *p = out + DNS_HEADER + qsec;
    for (size_t i = 0; i < n; i++, p += 16) {
        put16(p, 0xC000 | DNS_HEADER); /* the question's name */
        put16(p + 2, TYPE_A);
        put16(p + 4, CLASS_IN);
        memset(p + 6, 0, 4); /* TTL 0: never cached */
        put16(p + 10, 4);
        memcpy(p + 12, &d->addrs[i], 4);
    }
    if (n) atomic_fetch_add(&d->answers, 1);
    return need;
}

static void *serve(void *arg)
{
    sfp_test_dns *d = arg;
    uint8_t q[512], out[512];
    while (!atomic_load(&d->stop)) {
        struct pollfd pfd = {.fd = d->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0) continue; /* wakes to notice stop */
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(d->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (r <= 0) continue;
        size_t n = answer(d, q, (size_t)r, out, sizeof out);
        if (n) (void)sendto(d->fd, out, n, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

sfp_test_dns *sfp_test_dns_start(const char *name, const char *const *ipv4, size_t n)
{
    if (!name || strlen(name) >= 256 || n == 0 || n > DNS_MAX_ADDRS) return NULL;
    sfp_test_dns *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    strcpy(d->name, name);
    for (size_t i = 0; i < n; i++)
        if (inet_pton(AF_INET, ipv4[i], &d->addrs[i]) != 1) goto fail;
    d->naddrs = n;
    d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (d->fd < 0) goto fail;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(d->fd, (struct sockaddr *)&sa, sizeof sa) || getsockname(d->fd, (struct sockaddr *)&sa, &sl)) goto fail_fd;
    d->port = ntohs(sa.sin_port);
    if (pthread_create(&d->th, NULL, serve, d)) goto fail_fd;
    return d;
fail_fd:
    close(d->fd);
fail:
    free(d);
    return NULL;
}

int sfp_test_dns_port(const sfp_test_dns *d)
{
    return d->port;
}

long sfp_test_dns_answers(const sfp_test_dns *d)
{
    return atomic_load(&((sfp_test_dns *)d)->answers);
}

void sfp_test_dns_stop(sfp_test_dns *d)
{
    if (!d) return;
    atomic_store(&d->stop, true);
    pthread_join(d->th, NULL);
    close(d->fd);
    free(d);
}
