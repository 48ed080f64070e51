/* The table of modules. Adding a module is one line here (STYLE 3). */
#include "module.h"

#include <stdio.h>
#include <string.h>

extern const struct lx_module mod_core;
extern const struct lx_module mod_edu;
extern const struct lx_module mod_evidence;

const struct lx_module *const lx_modules[] = {
    &mod_core,
    &mod_edu,
    &mod_evidence,
};

const size_t lx_n_modules = sizeof(lx_modules) / sizeof(lx_modules[0]);

const struct lx_module *lx_module_find(const char *name)
{
    for (size_t i = 0; i < lx_n_modules; i++)
        if (strcmp(lx_modules[i]->name, name) == 0)
            return lx_modules[i];
    return NULL;
}

int lx_reject(struct lx_reject *why, unsigned status, const char *code, const char *message)
{
    why->status = status;
    snprintf(why->code, sizeof(why->code), "%s", code);
    snprintf(why->message, sizeof(why->message), "%s", message);
    return -1;
}
