#include "handlers/handlers.h"
#include "handlers/read_through.h"

void categories_list(request_t *r)
{
    if (handlers_reject_query(r))
        return;
    read_through_start(r, RT_CATEGORIES, NULL, NULL);
}
