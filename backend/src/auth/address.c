#include "auth/address.h"

#include <arpa/inet.h>
#include <string.h>

void address_unmap(int *family, unsigned char addr[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (*family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *family = AF_INET;
    }
}

void address_print(int family, const unsigned char addr[16], char out[ADDRESS_MAX])
{
    unsigned char a[16];
    memcpy(a, addr, family == AF_INET ? 4 : 16);
    address_unmap(&family, a);
    if (inet_ntop(family, a, out, ADDRESS_MAX) == NULL)
        strcpy(out, "unknown");
}

int address_normalize(const char *text, size_t len, char out[ADDRESS_MAX])
{
    char tmp[ADDRESS_MAX + 1];
    unsigned char bin[16];
    if (len == 0 || len >= sizeof(tmp) || memchr(text, '\0', len) != NULL) /* a NUL would hide what follows */
        return -1;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    int family = inet_pton(AF_INET, tmp, bin) == 1 ? AF_INET : inet_pton(AF_INET6, tmp, bin) == 1 ? AF_INET6 : 0;
    if (family == 0)
        return -1;
    address_print(family, bin, out);
    return 0;
}
