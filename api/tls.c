/* tls.c — the server's credentials: TLS from PEM files (with client
 * certificates when a CA is given), or plaintext on a loopback address
 * only unless explicitly allowed. */
#include "runtime_internal.h"

#include <arpa/inet.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pem.h"

/* (runtime_internal.h) True when addr ("host:port", "[v6]:port", "ipv4:...", "ipv6:...",
 * "unix:path") can only be reached from this machine: a numeric address in
 * 127.0.0.0/8 or ::1, the name "localhost", or a Unix socket. A host name
 * that merely begins like one ("127.x.example") is not. */
bool rt_is_loopback(const char *addr)
{
    if (strncmp(addr, "unix:", 5) == 0)
        return true;
    if (strncmp(addr, "ipv4:", 5) == 0 || strncmp(addr, "ipv6:", 5) == 0)
        addr += 5;
    char host[256];
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return false;
        addr++;
        colon = close;
    } else {
        colon = strrchr(addr, ':');
    }
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return false;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return strcmp(host, "localhost") == 0;
}

grpc_server_credentials *rt_make_credentials(const api_server_config *cfg, char **err)
{
    if (!cfg->tls_cert && !cfg->tls_key) {
        if (cfg->tls_client_ca) { /* plaintext would ignore it: never pretend to check */
            asprintf(err, "--tls-client-ca needs TLS: give --tls-cert and --tls-key");
            return NULL;
        }
        if (!rt_is_loopback(cfg->listen) && !cfg->allow_insecure_remote) {
            asprintf(err,
                     "refusing plaintext on non-loopback address %s: give --tls-cert and "
                     "--tls-key, or --allow-insecure-remote",
                     cfg->listen);
            return NULL;
        }
        return grpc_insecure_server_credentials_create();
    }
    if (!cfg->tls_cert || !cfg->tls_key) {
        asprintf(err, "TLS needs both --tls-cert and --tls-key");
        return NULL;
    }
    grpc_ssl_pem_key_cert_pair pair = {pem_read(cfg->tls_key), pem_read(cfg->tls_cert)};
    char *ca = cfg->tls_client_ca ? pem_read(cfg->tls_client_ca) : NULL;
    grpc_server_credentials *creds = NULL;
    if (!pair.private_key || !pair.cert_chain || (cfg->tls_client_ca && !ca))
        asprintf(err, "cannot read the TLS files (%s, %s%s%s)", cfg->tls_cert, cfg->tls_key,
                 cfg->tls_client_ca ? ", " : "", cfg->tls_client_ca ? cfg->tls_client_ca : "");
    else
        creds = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
    free((char *)pair.private_key);
    free((char *)pair.cert_chain);
    free(ca);
    if (!creds && !*err)
        asprintf(err, "gRPC rejected the TLS configuration");
    return creds;
}
