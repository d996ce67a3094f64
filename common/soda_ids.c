#include "soda_ids.h"

#include <string.h>

static bool digits_then_upper(const char *v, size_t ndig)
{
    if (!v) return false;
    for (size_t i = 0; i < ndig; i++)
        if (v[i] < '0' || v[i] > '9') return false;
    if (v[ndig] == '\0') return true;
    return v[ndig] >= 'A' && v[ndig] <= 'Z' && v[ndig + 1] == '\0';
}

bool sfp_soda_valid_block(const char *block)
{
    return digits_then_upper(block, 4);
}
bool sfp_soda_valid_lot(const char *lot)
{
    return digits_then_upper(lot, 3);
}

bool sfp_soda_valid_dataset(const char *d)
{
    if (!d || strlen(d) != 9 || d[4] != '-') return false;
    for (int i = 0; i < 9; i++) {
        if (i == 4) continue;
        if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9'))) return false;
    }
    return true;
}
