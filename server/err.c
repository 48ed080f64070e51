/* Sentences for the project-wide result codes of err.h. */
#include "err.h"

const char *srv_strerror(int err)
{
    switch (err) {
    case SRV_OK:
        return "success";
    case SRV_ENOMEM:
        return "out of memory";
    case SRV_EINVAL:
        return "invalid argument";
    case SRV_EDB:
        return "database unavailable or query failed";
    case SRV_EIO:
        return "input/output error";
    case SRV_ENOTFOUND:
        return "not found";
    case SRV_ESCHEMA:
        return "database schema is newer than this binary";
    case SRV_ECONFLICT:
        return "rule violated";
    case SRV_EBUSY:
        return "resource busy";
    case SRV_ECRYPTO:
        return "key operation failed";
    }
    return "unknown error";
}
