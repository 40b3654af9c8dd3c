/* supplysec — the command-line client of supplysecd.
 *
 *   supplysec [--addr HOST:PORT] [--key KEY] [--tls] [--ca FILE] COMMAND
 *   call Service.Method JSON     any method of any served service, JSON in and out
 *   orgs list | get NAME | create --legal-name X --country CC --kind KIND [--id ID]
 *   keys create --parent P --role ROLE [--id ID] [--display-name X]
 *        list --parent P | revoke NAME
 *   health                       exit 0 only when the server is SERVING
 *
 * The key comes from --key or SUPPLYSEC_API_KEY, the address from --addr
 * or SUPPLYSEC_ADDR (default 127.0.0.1:50051). Requests and answers go
 * through the same descriptor-driven converter as stored documents. Exit
 * status: 0 on OK, 1 on any other status (printed with its message on
 * stderr), 2 on bad usage.
 */
#include <bson/bson.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "grpc/health/v1/health.pb-c.h"
#include "doc.h"
#include "runtime.h"
#include "status.h"

typedef struct cli {
    const char *addr, *key, *ca;
    bool tls;
    int timeout_ms;
} cli;

static const char usage[] =
    "usage: supplysec [--addr HOST:PORT] [--key KEY] [--tls] [--ca FILE] [--timeout-ms N] COMMAND\n"
    "  call Service.Method JSON     e.g. call Organizations.GetOrganization "
    "'{\"name\":\"organizations/acme\"}'\n"
    "  orgs list [--page-size N] [--page-token T] [--filter 'kind = OPERATOR']\n"
    "  orgs get NAME\n"
    "  orgs create --legal-name NAME --country CC [--kind KIND] [--id ID]\n"
    "  keys create --parent PARENT --role ROLE [--id ID] [--display-name TEXT]\n"
    "  keys list --parent PARENT [--filter 'state = ACTIVE']\n"
    "  keys revoke NAME\n"
    "  health                       exit 0 only when the server reports SERVING\n"
    "The key comes from --key or SUPPLYSEC_API_KEY; the address from --addr or SUPPLYSEC_ADDR.\n";

/* Finds "Service.Method" or "pkg.Service.Method" among the served services. */
static const ProtobufCMethodDescriptor *method_find(const char *spec, char *path, size_t pathlen)
{
    const char *dot = strrchr(spec, '.');
    if (!dot)
        return NULL;
    size_t svclen = (size_t)(dot - spec);
    for (size_t i = 0; i < api_n_all_services; i++) {
        const ProtobufCServiceDescriptor *sd = api_all_services[i]->desc;
        size_t full = strlen(sd->name);
        bool match = (full == svclen && strncmp(sd->name, spec, svclen) == 0) ||
                     (full > svclen && sd->name[full - svclen - 1] == '.' &&
                      strncmp(sd->name + full - svclen, spec, svclen) == 0);
        if (!match)
            continue;
        const ProtobufCMethodDescriptor *md =
            protobuf_c_service_descriptor_get_method_by_name(sd, dot + 1);
        if (md)
            snprintf(path, pathlen, "/%s/%s", sd->name, md->name);
        return md;
    }
    return NULL;
}

/* Calls spec with json; on OK hands the response to `answer` (which
 * returns the exit status) or prints it as JSON. */
typedef int (*answer_fn)(const ProtobufCMessage *resp);

static int call_json_then(const cli *c, const char *spec, const char *json, answer_fn answer);

static int call_json(const cli *c, const char *spec, const char *json)
{
    return call_json_then(c, spec, json, NULL);
}

static int call_json_then(const cli *c, const char *spec, const char *json, answer_fn answer)
{
    char path[256], err[512];
    const ProtobufCMethodDescriptor *md = method_find(spec, path, sizeof path);
    if (!md) {
        fprintf(stderr,
                "supplysec: unknown method \"%s\" (expected Service.Method, e.g. "
                "Organizations.GetOrganization)\n",
                spec);
        return 2;
    }
    ProtobufCMessage *req = doc_message_from_json(md->input, json, strlen(json), err, sizeof err);
    if (!req) {
        fprintf(stderr, "supplysec: the request is not a valid %s: %s\n", md->input->name, err);
        return 2;
    }
    char *cerr = NULL, *details = NULL;
    ProtobufCMessage *resp = NULL;
    api_client *client = api_client_open(c->addr, c->tls, c->ca, &cerr);
    int code = 1;
    if (!client) {
        fprintf(stderr, "supplysec: %s\n", cerr ? cerr : "cannot create a client");
        goto out;
    }
    code = api_client_call(client, path, req, md->output, c->key, c->timeout_ms, &resp, &details);
    if (code == 0) {
        char *out = doc_message_to_json(resp);
        printf("%s\n", out ? out : "{}");
        bson_free(out);
        code = answer ? answer(resp) : 0;
    } else {
        fprintf(stderr, "supplysec: %s: %s\n", status_code_name((status_code)code),
                details ? details : "");
        code = 1;
    }
out:
    api_client_close(client);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    protobuf_c_message_free_unpacked(req, NULL);
    free(details);
    free(cerr);
    return code;
}

/* Appends `"key": "value"` (JSON-escaped through libbson) when value is set. */
static void json_field(bson_t *doc, const char *key, const char *value)
{
    if (value)
        BSON_APPEND_UTF8(doc, key, value);
}

/* Runs spec with the request built in doc (consumed). */
static int call_doc(const cli *c, const char *spec, bson_t *doc)
{
    char *json = bson_as_relaxed_extended_json(doc, NULL);
    bson_destroy(doc);
    int rc = call_json(c, spec, json);
    bson_free(json);
    return rc;
}

typedef struct sub_opts {
    const char *legal_name, *country, *kind, *id, *parent, *role, *display_name, *filter,
        *page_token;
    int page_size;
} sub_opts;

static bool sub_opts_parse(int argc, char **argv, sub_opts *o)
{
    static const struct option opts[] = {
        {"legal-name", required_argument, NULL, 'n'},
        {"country", required_argument, NULL, 'c'},
        {"kind", required_argument, NULL, 'k'},
        {"id", required_argument, NULL, 'i'},
        {"parent", required_argument, NULL, 'p'},
        {"role", required_argument, NULL, 'r'},
        {"display-name", required_argument, NULL, 'd'},
        {"filter", required_argument, NULL, 'f'},
        {"page-size", required_argument, NULL, 's'},
        {"page-token", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 0; /* GNU getopt: 0 restarts the scan for a new argv */
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            o->legal_name = optarg;
            break;
        case 'c':
            o->country = optarg;
            break;
        case 'k':
            o->kind = optarg;
            break;
        case 'i':
            o->id = optarg;
            break;
        case 'p':
            o->parent = optarg;
            break;
        case 'r':
            o->role = optarg;
            break;
        case 'd':
            o->display_name = optarg;
            break;
        case 'f':
            o->filter = optarg;
            break;
        case 's':
            o->page_size = atoi(optarg);
            break;
        case 't':
            o->page_token = optarg;
            break;
        default:
            return false;
        }
    }
    return true;
}

static int orgs_command(const cli *c, int argc, char **argv)
{
    sub_opts o = {0};
    if (argc < 1 || !sub_opts_parse(argc, argv, &o))
        return fputs(usage, stderr), 2;
    bson_t doc = BSON_INITIALIZER;
    const char *verb = argv[0];
    if (strcmp(verb, "list") == 0) {
        if (o.page_size)
            BSON_APPEND_INT32(&doc, "pageSize", o.page_size);
        json_field(&doc, "pageToken", o.page_token);
        json_field(&doc, "filter", o.filter);
        return call_doc(c, "Organizations.ListOrganizations", &doc);
    }
    if (strcmp(verb, "get") == 0 && optind < argc) {
        json_field(&doc, "name", argv[optind]);
        return call_doc(c, "Organizations.GetOrganization", &doc);
    }
    if (strcmp(verb, "create") == 0) {
        bson_t org;
        BSON_APPEND_DOCUMENT_BEGIN(&doc, "organization", &org);
        json_field(&org, "legalName", o.legal_name);
        json_field(&org, "countryCode", o.country);
        json_field(&org, "kind", o.kind ? o.kind : "ORGANIZATION_KIND_OPERATOR");
        bson_append_document_end(&doc, &org);
        json_field(&doc, "organizationId", o.id);
        return call_doc(c, "Organizations.CreateOrganization", &doc);
    }
    bson_destroy(&doc);
    return fputs(usage, stderr), 2;
}

static int keys_command(const cli *c, int argc, char **argv)
{
    sub_opts o = {0};
    if (argc < 1 || !sub_opts_parse(argc, argv, &o))
        return fputs(usage, stderr), 2;
    bson_t doc = BSON_INITIALIZER;
    const char *verb = argv[0];
    if (strcmp(verb, "create") == 0) {
        bson_t key;
        json_field(&doc, "parent", o.parent);
        BSON_APPEND_DOCUMENT_BEGIN(&doc, "apiKey", &key);
        json_field(&key, "role", o.role);
        json_field(&key, "displayName", o.display_name);
        bson_append_document_end(&doc, &key);
        json_field(&doc, "apiKeyId", o.id);
        return call_doc(c, "ApiKeys.CreateApiKey", &doc);
    }
    if (strcmp(verb, "list") == 0) {
        json_field(&doc, "parent", o.parent);
        json_field(&doc, "filter", o.filter);
        if (o.page_size)
            BSON_APPEND_INT32(&doc, "pageSize", o.page_size);
        json_field(&doc, "pageToken", o.page_token);
        return call_doc(c, "ApiKeys.ListApiKeys", &doc);
    }
    if (strcmp(verb, "revoke") == 0 && optind < argc) {
        json_field(&doc, "name", argv[optind]);
        return call_doc(c, "ApiKeys.RevokeApiKey", &doc);
    }
    bson_destroy(&doc);
    return fputs(usage, stderr), 2;
}

static int health_answer(const ProtobufCMessage *resp)
{
    const Grpc__Health__V1__HealthCheckResponse *h = (const void *)resp;
    return h->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING ? 0 : 1;
}

int main(int argc, char **argv)
{
    cli c = {
        .addr = getenv("SUPPLYSEC_ADDR"), .key = getenv("SUPPLYSEC_API_KEY"), .timeout_ms = 30000};
    if (!c.addr || !c.addr[0])
        c.addr = "127.0.0.1:50051";
    static const struct option opts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"key", required_argument, NULL, 'k'},
        {"tls", no_argument, NULL, 't'},
        {"ca", required_argument, NULL, 'c'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    /* "+": stop at the command, whose own flags are parsed after it. */
    while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            c.addr = optarg;
            break;
        case 'k':
            c.key = optarg;
            break;
        case 't':
            c.tls = true;
            break;
        case 'c':
            c.ca = optarg;
            break;
        case 'T':
            c.timeout_ms = atoi(optarg) > 0 ? atoi(optarg) : 30000;
            break;
        case 'V':
            printf("supplysec %s\n", SUPPLYSEC_VERSION);
            return 0;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind >= argc)
        return fputs(usage, stderr), 2;
    const char *cmd = argv[optind];
    int rest = argc - optind - 1;
    char **rargv = argv + optind + 1;
    if (strcmp(cmd, "call") == 0 && rest == 2)
        return call_json(&c, rargv[0], rargv[1]);
    if (strcmp(cmd, "orgs") == 0)
        return orgs_command(&c, rest, rargv);
    if (strcmp(cmd, "keys") == 0)
        return keys_command(&c, rest, rargv);
    if (strcmp(cmd, "health") == 0 && rest == 0)
        return call_json_then(&c, "grpc.health.v1.Health.Check", "{}", health_answer);
    fputs(usage, stderr);
    return 2;
}
