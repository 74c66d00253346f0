/* Client addresses as one canonical text per address, so the login
 * throttle counts "::ffff:127.0.0.1", "0:0:0:0:0:ffff:7f00:1" and
 * "127.0.0.1" (or "::0:1" and "::1") as the same client. Pure code. */
#ifndef CATALOG_ADDRESS_H
#define CATALOG_ADDRESS_H

#include <netinet/in.h>
#include <stddef.h>

#define ADDRESS_MAX INET6_ADDRSTRLEN

/* Turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) into IPv4 in place:
 * *family AF_INET6 becomes AF_INET and addr's first 4 bytes the IPv4
 * address. Any other address is left as it is. */
void address_unmap(int *family, unsigned char addr[16]);

/* Prints family/addr (4 or 16 bytes), unmapped first, into out: inet_ntop's
 * text (RFC 5952 for IPv6: lower case, zeros compressed). */
void address_print(int family, const unsigned char addr[16], char out[ADDRESS_MAX]);

/* Parses text (len bytes, not NUL-terminated) as an IPv4 or IPv6 literal
 * and writes its canonical text (address_print) into out. Returns 0, or -1
 * when it is not an address literal (out untouched). */
int address_normalize(const char *text, size_t len, char out[ADDRESS_MAX]);

#endif
