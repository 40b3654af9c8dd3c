/* pem.h — reading the PEM files TLS is configured with (server and CLI). */
#ifndef SUPPLYSEC_PEM_H
#define SUPPLYSEC_PEM_H

/* The whole file as a NUL-terminated string the caller frees; NULL when it
 * cannot be read or is larger than 1 MiB (no certificate file is). */
char *pem_read(const char *path);

#endif
