/* kind.h — resource kinds, each declared once.
 *
 * A kind is everything the standard methods (AIP-131..135, standard.h) need
 * to serve a resource: its message, where its records live, the kind it is
 * a child of (the name pattern follows from that chain:
 * `organizations/{organization}/securityPolicies/{security_policy}`), the
 * least role for each verb, the fields a client never sets or sets only at
 * creation, and hooks for the rules that are the kind's own. A new kind is a
 * `const kind` and its hooks in domain/, plus its line in kinds.c; nothing
 * else in internal/ changes for it.
 *
 * Tenancy follows from the name: the organization id at the root of a
 * name is the tenant that owns the resource (organizations/{org} owns
 * itself). A caller who is not a member of that organization gets
 * NOT_FOUND for it, never a hint that it exists, unless the kind's
 * authorize hook grants the access (the shares and grants of later kinds).
 */
#ifndef SUPPLYSEC_KIND_H
#define SUPPLYSEC_KIND_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "resource.h"
#include "status.h"
#include "validate.h"

typedef enum kind_verb {
    KIND_GET,
    KIND_LIST,
    KIND_CREATE,
    KIND_UPDATE,
    KIND_DELETE,
    KIND_VERBS
} kind_verb;

typedef enum kind_lifecycle {
    KIND_PLAIN,      /* written freely by its role */
    KIND_CONTROLLED, /* a controlled document: draft, review, approval, revisions */
} kind_lifecycle;

#define KIND_DEPTH_MAX 4  /* kinds in a name's chain, the kind itself included */
#define KIND_NAME_MAX 320 /* bytes of a full resource name */
#define KIND_PLATFORM "platform"
#define KIND_OUTPUT_ONLY_MAX 32 /* output-only fields of a kind, the AIP ones included */

typedef struct kind kind;

/* One resource of a kind, from its name. */
typedef struct resource_key {
    const kind *kind;
    char name[KIND_NAME_MAX];      /* the full name */
    char parent[KIND_NAME_MAX];    /* the parent's name; "" for a top-level kind */
    char org[RESOURCE_ID_MAX + 1]; /* the tenant; "" under `platform` */
    char id[RESOURCE_ID_MAX + 1];  /* the last segment */
    char revision[16]; /* of `name@{revision}` (a controlled kind's revision), else "" */
    size_t depth;      /* ids in the name */
    char ids[KIND_DEPTH_MAX][RESOURCE_ID_MAX + 1]; /* ids from the root down */
} resource_key;

/* The kind's own rules. Every hook may be NULL. Borrowed pointers only. */
typedef struct kind_hooks {
    /* The writable fields of res: on create, and on update once the mask
     * is applied. Messages name fields under prefix (the request field,
     * e.g. "security_policy"). */
    bool (*validate)(const ProtobufCMessage *res, const char *prefix, status *st);
    /* Sets the fields the server computes on res (prev: what is stored,
     * NULL on create). What a client sent there is already cleared. */
    bool (*derive)(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st);
    /* A change the verb's role alone does not allow (an organization's
     * kind changes only by a platform administrator): refuses with st. */
    bool (*check_update)(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st);
    /* Fields derived as of now, set on the standard methods' answers (Get of
     * the latest revision, each item of List, Create, Update) and on a
     * controlled document's moves; never on its kept revisions, which are
     * as approved: what derive stored may have changed by itself since (a
     * certificate that expired, a monitoring activity now overdue). On a
     * write's answer a failure leaves the resource as stored, since the
     * write is made. */
    bool (*present)(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st);
    /* Access for a caller who is not a member of key->org (access.h has
     * the hooks kinds name here: a share, a validation grant): true when
     * the caller reads key with verb (GET, LIST); for a write verb, true
     * when the caller reads what it would write, which makes the write
     * PERMISSION_DENIED rather than NOT_FOUND (a validator writes nothing).
     * false: NOT_FOUND to the caller, or, with st set, that failure (the
     * read could not be recorded). */
    bool (*authorize)(const op_ctx *op, kind_verb verb, const resource_key *key, status *st);
    /* Before a delete of cur at version: refuses (FAILED_PRECONDITION), or
     * adds to b the writes that go with it (children deleted too). */
    bool (*before_delete)(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st);
    /* A controlled document's revision about to be approved: refuses
     * (FAILED_PRECONDITION) what must hold of an approved revision. */
    bool (*before_approve)(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st);
    /* A resource being created (after derive): adds to b the writes that go
     * with it, stored in the same atomic write (a credibility review moves
     * its partner's review dates); may set res's own output-only fields.
     * Messages the writes borrow go to resource_batch_keep. */
    bool (*with_create)(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                        resource_batch *b, status *st);
    /* A controlled document's revision being approved (doc, APPROVED now):
     * adds to b the writes that go with it, stored in the same atomic write
     * (the declaration requests a declaration answered, answered again by
     * the new revision); may change doc itself. Messages the writes borrow
     * go to resource_batch_keep. */
    bool (*with_approval)(const op_ctx *op, const resource_key *key, ProtobufCMessage *doc,
                          resource_batch *b, status *st);
    /* The store's state and lookup columns of res (NULL: none; a
     * controlled kind's state column is its DocumentState). */
    void (*columns)(const ProtobufCMessage *res, const char **state, const char **lookup);
} kind_hooks;

struct kind {
    const char *type;       /* the message's short name, for people: "SecurityPolicy" */
    const char *field;      /* the resource's field in requests, snake_case: "security_policy" */
    const char *plural;     /* its collection segment in names: "securityPolicies" */
    const char *collection; /* the store's collection (the plural unless stated) */
    const kind *parent;     /* NULL: a top-level kind */
    /* This kind's records are part of their nearest controlled ancestor (a
     * document): they are created, changed and deleted only while its
     * latest revision is a DRAFT, each write guarding it at the version it
     * saw (a threat scenario of an assessment, a scenario's
     * countermeasures). */
    bool part_of_document;
    /* A controlled kind: its part kinds (NULL-terminated; part_of_document,
     * this kind their document, each with a revisions_collection). When a
     * revision is approved, the records of each under the document are kept
     * with it, in the same write, readable as `{document}@{revision}/...`
     * (a threat scenario as its assessment's revision 3 had it). */
    const kind *const *parts;
    bool platform_parent; /* may also live under `platform` (platform administrators only) */
    const ProtobufCMessageDescriptor *desc;
    /* The least role per verb; ROLE_PLATFORM_ADMIN: platform administrators
     * only; ROLE_UNSPECIFIED: the verb is not offered (UNIMPLEMENTED). */
    Supplysec__V1__Role min_role[KIND_VERBS];
    const char *const *output_only; /* NULL-terminated, beyond the AIP fields; or NULL */
    const char *const *immutable;   /* set at creation only; or NULL */
    /* The fields List filters may use (AIP-160, filter.h), kept by the
     * store as facets: top-level fields of desc, each of the facet's type
     * (STRING: string; ENUM: an enum; INT: an integer; BOOL: bool;
     * TIMESTAMP: google.protobuf.Timestamp), repeated where it is. */
    const facet_def *facets;
    size_t n_facets;
    /* KIND_CONTROLLED: the message also has DocumentState state, string
     * revision_id, Timestamp revision_create_time and DocumentControl
     * control (all output only), and each approved revision is kept in
     * revisions_collection (lifecycle.h). */
    kind_lifecycle lifecycle;
    /* A controlled kind's approved revisions; a part kind's records as kept
     * with them. */
    const char *revisions_collection;
    /* Records stored in an envelope (NULL: as desc itself): a message whose
     * singular field envelope_field holds the resource and whose other
     * fields never leave the server (an API key's secret hash). Get, List
     * and Delete are standard; Create and Update are the kind's own custom
     * methods, which write the envelope. */
    const ProtobufCMessageDescriptor *envelope;
    const char *envelope_field;
    kind_hooks hooks;
};

/* The least roles of most of an organization's documents and records:
 * VIEWERs read them, EDITORs create and change them, ADMINs delete them. */
#define KIND_ROLES_DOCUMENT                                                                        \
    {                                                                                              \
        [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,                                             \
        [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,                                            \
        [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,                                          \
        [KIND_UPDATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,                                          \
        [KIND_DELETE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,                                           \
    }

/* The least roles of what an organization's ADMINs keep (grants, an
 * authority's recognitions and attestations): VIEWERs read them, ADMINs
 * create, change and delete them. */
#define KIND_ROLES_ADMIN_KEPT                                                                      \
    {                                                                                              \
        [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,                                             \
        [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,                                            \
        [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,                                           \
        [KIND_UPDATE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,                                           \
        [KIND_DELETE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,                                           \
    }

/* Checks a kind's declaration against its descriptor: the AIP fields
 * (name, create_time, update_time, etag) with their types, every
 * output-only and immutable field present and singular, the chain of
 * parents short enough and free of cycles, the names well-formed. false
 * with err (a sentence for the start-up log) when something does not hold:
 * start-up stops there. */
bool kind_check(const kind *k, char *err, size_t errlen);
/* kind_check for each, and no two sharing a collection or a plural under
 * the same parent. */
bool kind_check_all(const kind *const *kinds, size_t n, char *err, size_t errlen);

/* The name pattern, e.g. "organizations/{organization}/securityPolicies/
 * {security_policy}", into buf. */
void kind_pattern(const kind *k, char *buf, size_t size);

/* Parses name as a resource of k into key. INVALID_ARGUMENT naming field
 * and the pattern when it is not one, and for a revision's name
 * (`...@{revision}`): revisions are read only. */
bool kind_parse_name(const kind *k, const char *field, const char *name, resource_key *key,
                     status *st);
/* The same, also taking a controlled kind's revision names, and a part
 * kind's names within a document's revision (`{document}@{revision}/...`),
 * for reads: key->revision is then set, a revision number without leading
 * zeros, and key->name is the name without it. */
bool kind_parse_revision_name(const kind *k, const char *field, const char *name, resource_key *key,
                              status *st);
/* Parses parent as a parent of k (the name of a resource of k->parent, ""
 * for a top-level kind, `platform` where allowed) into key, whose own id
 * and name are left empty. */
bool kind_parse_parent(const kind *k, const char *field, const char *parent, resource_key *key,
                       status *st);
/* The same, also taking, for a part kind, a parent within a document's
 * revision (`{document}@{revision}` or below it; for reads): key->revision
 * is then set. */
bool kind_parse_revision_parent(const kind *k, const char *field, const char *parent,
                                resource_key *key, status *st);
/* Completes a key from kind_parse_parent with the id of a new resource;
 * false when the name would be longer than KIND_NAME_MAX. */
bool kind_key_set_id(resource_key *key, const char *id);

/* May op's caller use verb on key? Members of key->org with the verb's
 * role pass; platform administrators pass everywhere; for GET and LIST the
 * kind's authorize hook may let others read. Another tenant's resource is
 * NOT_FOUND (naming `what`), too low a role in one's own PERMISSION_DENIED,
 * a verb the kind does not offer UNIMPLEMENTED. `platform` is no tenant and
 * its existence is documented: creating or listing under it is
 * PERMISSION_DENIED for all but platform administrators, while the
 * resources under it are NOT_FOUND to them like another tenant's. A top-level kind's
 * resources (new tenants) are created by platform administrators only:
 * PERMISSION_DENIED for anyone else. */
/* The nearest controlled ancestor of k (kind.part_of_document), or NULL. */
const kind *kind_document_of(const kind *k);
/* buf: the name of key's ancestor of kind ancestor (a prefix of key->name);
 * false when ancestor is not in key's chain or buf is too small. */
bool kind_ancestor_name(const resource_key *key, const kind *ancestor, char *buf, size_t size);

bool kind_authorize(const op_ctx *op, kind_verb verb, const resource_key *key, const char *what,
                    status *st);
/* The same for a custom method that writes, needing min_role: members
 * with it pass, platform administrators pass, nobody else is let in by a
 * hook. */
bool kind_authorize_role(const op_ctx *op, const resource_key *key, Supplysec__V1__Role min_role,
                         const char *what, status *st);

/* The same for what only the organization's own members see (a list of
 * what others address to it): members with min_role pass, platform
 * administrators pass; no hook lets anyone else in: NOT_FOUND. */
bool kind_authorize_member(const op_ctx *op, const resource_key *key, Supplysec__V1__Role min_role,
                           const char *what, status *st);

/* What a page token of a list is bound to, in the one form every list
 * uses (page_token.h): the method (op->method), the caller's organization,
 * the parent (or, for a document's revisions, the document) and the
 * filter. A token is good only for the query whose key it was made with. */
#define KIND_QUERY_KEY_MAX (3 * KIND_NAME_MAX)
void kind_query_key(const op_ctx *op, const char *parent, const char *filter, char *buf,
                    size_t size);

/* A page of k's records in org (NULL: every organization's, for the
 * server's own cross-tenant queries: requests addressed to someone, shares
 * with a grantee, grants to an authority) that satisfy `where`, an AIP-160
 * filter on k's facets that the server writes (a value it quotes is a
 * resource name), from page_token on; the page's token is bound to
 * query_key. */
bool kind_list_where(const op_ctx *op, const kind *k, const char *org, const char *where,
                     const char *query_key, int page_size, const char *page_token,
                     resource_page *page, status *st);

/* The message k's records are stored as: its envelope, else desc. */
const ProtobufCMessageDescriptor *kind_stored_desc(const kind *k);
/* The resource in stored, a message of kind_stored_desc(k) (borrowed);
 * NULL, with DATA_LOSS naming `what` when st is not NULL, when an envelope
 * holds none. */
const ProtobufCMessage *kind_resource_in(const kind *k, const ProtobufCMessage *stored,
                                         const char *what, status *st);
/* Takes stored and returns its resource (the caller's); NULL with DATA_LOSS
 * naming `what` when an envelope holds none (stored freed either way). */
ProtobufCMessage *kind_resource_take(const kind *k, ProtobufCMessage *stored, const char *what,
                                     status *st);

/* Where res, a resource of k named by key, is stored: the kind's
 * collection, the key's tenant and parent, the columns from the kind's
 * hook (a controlled kind's state column is its state), its facets. */
resource_ref kind_ref(const kind *k, const resource_key *key, const ProtobufCMessage *res);

/* The facets of a stored record of k with document doc, as the resource
 * layer writes them (resource_facets): *out malloc'd (free()), NULL and *n
 * 0 for none. false when the document cannot be read or memory runs out. */
bool kind_record_facets(const kind *k, const uint8_t *doc, size_t len, store_facet **out,
                        size_t *n);

/* NULL-terminated: the AIP fields and the kind's output-only fields, in
 * buf (KIND_OUTPUT_ONLY_MAX entries: kind_check refuses more). */
const char *const *kind_output_only(const kind *k, const char **buf, size_t size);

#endif
