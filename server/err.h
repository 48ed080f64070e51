/*
 * Project-wide result codes for server/ and modules/. Functions return 0 (SRV_OK) or one of
 * these negatives; srv_strerror() gives a short lowercase sentence for logs.
 * Errors a client caused travel as an HTTP status plus a stable string code (see http.h).
 */
#ifndef LX_SERVER_ERR_H
#define LX_SERVER_ERR_H

enum srv_err {
    SRV_OK = 0,
    SRV_ENOMEM = -1,    /* allocation failed */
    SRV_EINVAL = -2,    /* invalid argument or configuration */
    SRV_EDB = -3,       /* database unreachable or a query failed */
    SRV_EIO = -4,       /* file or socket operation failed */
    SRV_ENOTFOUND = -5, /* no such object */
    SRV_ESCHEMA = -6,   /* database schema newer than this binary */
    SRV_ECONFLICT = -7, /* a stateful rule was broken */
    SRV_EBUSY = -8,     /* a resource is exhausted, try later */
    SRV_ECRYPTO = -9,   /* a key could not be created, read or used */
};

/* Returns a static sentence describing err; never NULL. */
const char *srv_strerror(int err);

#endif
