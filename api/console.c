/* console.c — see console.h. */
#include "console.h"

#include <pthread.h>
#include <string.h>

extern const unsigned char console_index_html[], console_console_js[], console_console_css[];
extern const size_t console_index_html_len, console_console_js_len, console_console_css_len;

static console_file files[] = {
    {"index.html", "text/html; charset=utf-8", console_index_html, 0},
    {"console.js", "text/javascript; charset=utf-8", console_console_js, 0},
    {"console.css", "text/css; charset=utf-8", console_console_css, 0},
};
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The lengths are link-time values, not constant expressions: set once. */
static void lengths(void)
{
    files[0].len = console_index_html_len;
    files[1].len = console_console_js_len;
    files[2].len = console_console_css_len;
}

const console_file *console_find(const char *name)
{
    pthread_once(&once, lengths);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}
