/* testdns.h — a DNS server on loopback UDP for tests, so a gRPC client dialing
 * "dns://127.0.0.1:<port>/<name>:<grpc-port>" resolves a name to several addresses without
 * touching /etc/hosts (e.g. two service replicas on 127.0.0.1 and 127.0.0.2, same port).
 * It answers A queries for its one name with its addresses, any other type for that name with
 * no records, and every other name with NXDOMAIN. Runs on its own thread until stopped. */
#ifndef SFP_TESTDNS_H
#define SFP_TESTDNS_H

#include <stddef.h>

typedef struct sfp_test_dns sfp_test_dns;

/* Starts serving name (e.g. "report.sfp.test") → ipv4[0..n-1] (dotted quads) on 127.0.0.1, a
 * free UDP port. Returns NULL on failure. The caller owns the result (sfp_test_dns_stop). */
sfp_test_dns *sfp_test_dns_start(const char *name, const char *const *ipv4, size_t n);
/* The UDP port it serves on. */
int sfp_test_dns_port(const sfp_test_dns *d);
/* Number of A queries answered for the name so far. */
long sfp_test_dns_answers(const sfp_test_dns *d);
/* Stops the thread, closes the socket and frees d (NULL is a no-op). */
void sfp_test_dns_stop(sfp_test_dns *d);

#endif
