/* console.h — the web console's files (api/console/), embedded in the
 * binary at build time (CMakeLists.txt, CONSOLE_FILES) and served by the
 * HTTP listener under /console/, so that running the console needs nothing
 * beside supplysecd. The table here is the list of what may be served: with
 * --console-dir (for working on the console) the same names are read from
 * that directory on each request instead, and no other name is. */
#ifndef SUPPLYSEC_CONSOLE_H
#define SUPPLYSEC_CONSOLE_H

#include <stddef.h>

typedef struct console_file {
    const char *name; /* "index.html" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
} console_file;

/* The console's file called name; NULL when it has none of that name. */
const console_file *console_find(const char *name);

#endif
