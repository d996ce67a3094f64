/* soda_ids.h — the identifier formats of the city's open-data API: an Assessor block and lot
 * and a dataset id. Pure (no I/O, no allocation), so the gateway validates a request's block
 * and lot without linking the SODA client. */
#ifndef SFP_SODA_IDS_H
#define SFP_SODA_IDS_H

#include <stdbool.h>

bool sfp_soda_valid_block(const char *block);     /* ^[0-9]{4}[A-Z]?$ */
bool sfp_soda_valid_lot(const char *lot);         /* ^[0-9]{3}[A-Z]?$ */
bool sfp_soda_valid_dataset(const char *dataset); /* ^[a-z0-9]{4}-[a-z0-9]{4}$ */

#endif
