#include "auth/address.h"
#include "check.h"

/* The canonical text of s, or "invalid". */
static const char *norm(const char *s)
{
    static char out[ADDRESS_MAX];
    return address_normalize(s, strlen(s), out) == 0 ? out : "invalid";
}

int main(void)
{
    /* one client, one text */
    CHECK_STR(norm("127.0.0.1"), "127.0.0.1");
    CHECK_STR(norm("::ffff:127.0.0.1"), "127.0.0.1");
    CHECK_STR(norm("0:0:0:0:0:ffff:7f00:1"), "127.0.0.1");
    CHECK_STR(norm("::FFFF:7F00:1"), "127.0.0.1");
    CHECK_STR(norm("::1"), "::1");
    CHECK_STR(norm("::0:1"), "::1");
    CHECK_STR(norm("0:0:0:0:0:0:0:1"), "::1");
    CHECK_STR(norm("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    CHECK_STR(norm("2001:db8::0001"), "2001:db8::1");
    /* not IPv4-mapped: stays IPv6 */
    CHECK_STR(norm("::127.0.0.1"), "::127.0.0.1");
    CHECK_STR(norm("64:ff9b::7f00:1"), "64:ff9b::7f00:1");
    /* not address literals */
    CHECK_STR(norm(""), "invalid");
    CHECK_STR(norm("localhost"), "invalid");
    CHECK_STR(norm("127.0.0.1 "), "invalid");
    CHECK_STR(norm("127.000.000.001"), "invalid");
    CHECK_STR(norm("::1%lo"), "invalid");
    CHECK_STR(norm("1.2.3.4, 5.6.7.8"), "invalid");
    char nul[] = "1.2.3.4\0garbage";
    char out[ADDRESS_MAX];
    CHECK(address_normalize(nul, sizeof(nul) - 1, out) == -1);
    /* binary: mapped → IPv4, in place */
    unsigned char a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
    int fam = AF_INET6;
    address_unmap(&fam, a);
    CHECK(fam == AF_INET && a[0] == 10 && a[3] == 3);
    address_print(fam, a, out);
    CHECK_STR(out, "10.1.2.3");
    return check_report("address");
}
