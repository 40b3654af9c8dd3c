/* organizations.c — the supplysec.v1.Organizations service.
 *
 * Each handler reads like the rule it implements: validate, authorize, load,
 * decide, store, answer. Only platform administrators create and delete
 * organizations; an organization's ADMIN updates it (all but its kind);
 * members read their own organization and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldmask.h"
#include "organization.h"
#include "runtime.h"
#include "validate.h"

#define ORG_NAME_MAX 96

typedef Supplysec__V1__Organization Organization;

static ProtobufCMessage *create_organization(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__CreateOrganizationRequest *req = (void *)msg;
    char id[RESOURCE_ID_MAX + 1], name[ORG_NAME_MAX];

    if (!req->organization)
        return api_fail(call, STATUS_INVALID_ARGUMENT, "organization: required");
    if (!resource_id_take("organization_id", req->organization_id, id, &call->st) ||
        !organization_validate(req->organization, "organization", &call->st))
        return NULL;
    if (!auth_is_platform_admin(&call->who))
        return api_fail(call, STATUS_PERMISSION_DENIED,
                        "only platform administrators create organizations");

    Organization *org = req->organization;
    req->organization = NULL; /* taken: answered and freed by the runtime */
    message_clear_fields(&org->base, resource_output_only_fields);
    snprintf(name, sizeof name, "organizations/%s", id);
    resource_ref ref = {
        .collection = ORGANIZATIONS_COLLECTION, .org = id, .parent = "", .name = name};
    if (!resource_create(&call->op, &ref, &org->base, &org->base, &call->st)) {
        protobuf_c_message_free_unpacked(&org->base, NULL);
        return NULL;
    }
    return &org->base;
}

static ProtobufCMessage *get_organization(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__GetOrganizationRequest *req = (void *)msg;
    char id[RESOURCE_ID_MAX + 1];
    if (!parse_name1("name", req->name, "organizations", id, sizeof id, &call->st) ||
        !auth_require(&call->who, id, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, req->name, &call->st))
        return NULL;
    return resource_load(&call->op, &supplysec__v1__organization__descriptor,
                         ORGANIZATIONS_COLLECTION, id, req->name, req->name, NULL, &call->st);
}

static ProtobufCMessage *list_organizations(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListOrganizationsRequest *req = (void *)msg;
    int page_size;
    if (!validate_page_size("page_size", req->page_size, &page_size, &call->st))
        return NULL;
    /* Members see their own organization; platform administrators all. */
    store_query q = {.collection = ORGANIZATIONS_COLLECTION,
                     .org = auth_is_platform_admin(&call->who) ? NULL : call->who.org,
                     .parent = ""};
    resource_page page;
    if (!resource_list(&call->op, &supplysec__v1__organization__descriptor, &q, "ListOrganizations",
                       req->page_token, page_size, &page, &call->st))
        return NULL;
    Supplysec__V1__ListOrganizationsResponse *resp = malloc(sizeof *resp);
    if (!resp) {
        resource_page_free(&page);
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    supplysec__v1__list_organizations_response__init(resp);
    resp->organizations = (Organization **)page.items;
    resp->n_organizations = page.count;
    resp->next_page_token = page.next_page_token;
    return &resp->base;
}

static ProtobufCMessage *update_organization(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__UpdateOrganizationRequest *req = (void *)msg;
    char id[RESOURCE_ID_MAX + 1];
    Organization *current = NULL, *next = NULL;
    int64_t version;
    char **implied = NULL; /* AIP-134: no mask means the populated fields */
    size_t n_implied = 0;

    if (!req->organization)
        return api_fail(call, STATUS_INVALID_ARGUMENT, "organization: required");
    const char *name = req->organization->name;
    if (!parse_name1("organization.name", name, "organizations", id, sizeof id, &call->st) ||
        !organization_validate_times(req->organization, "organization", &call->st))
        return NULL;
    if (!req->update_mask &&
        !fieldmask_populated(&req->organization->base, resource_output_only_fields, &implied,
                             &n_implied, &call->st))
        return NULL;
    char *const *paths = req->update_mask ? req->update_mask->paths : implied;
    size_t n_paths = req->update_mask ? req->update_mask->n_paths : n_implied;
    if (!fieldmask_validate(&supplysec__v1__organization__descriptor, paths, n_paths, &call->st) ||
        !auth_require(&call->who, id, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, name, &call->st))
        goto fail;

    current = (Organization *)resource_load(&call->op, &supplysec__v1__organization__descriptor,
                                            ORGANIZATIONS_COLLECTION, id, name, name, &version,
                                            &call->st);
    if (!current || !resource_check_etag(&current->base, req->organization->etag, &call->st))
        goto fail;
    next = (Organization *)fieldmask_apply(&current->base, &req->organization->base, paths, n_paths,
                                           resource_output_only_fields, &call->st);
    if (!next || !organization_validate(next, "organization", &call->st))
        goto fail;
    if (next->kind != current->kind && !auth_is_platform_admin(&call->who)) {
        api_fail(call, STATUS_PERMISSION_DENIED,
                 "organization.kind: only platform administrators change an organization's kind");
        goto fail;
    }
    resource_ref ref = {
        .collection = ORGANIZATIONS_COLLECTION, .org = id, .parent = "", .name = name};
    if (!resource_update(&call->op, &ref, &next->base, &next->base, version, &call->st))
        goto fail;
    protobuf_c_message_free_unpacked(&current->base, NULL);
    fieldmask_paths_free(implied, n_implied);
    return &next->base;
fail:
    if (current)
        protobuf_c_message_free_unpacked(&current->base, NULL);
    if (next)
        protobuf_c_message_free_unpacked(&next->base, NULL);
    fieldmask_paths_free(implied, n_implied);
    return NULL;
}

/* FAILED_PRECONDITION while the organization has active keys. */
static bool check_no_active_keys(api_call *call, const char *id, const char *parent)
{
    store_page *page = NULL;
    store_query q = {.collection = APIKEYS_COLLECTION,
                     .org = id,
                     .parent = parent,
                     .state = "STATE_ACTIVE",
                     .limit = 1};
    if (!status_from_store(&call->st, store_list(call->op.store, &q, &page), "API keys"))
        return false;
    size_t active = page->count;
    store_page_free(page);
    if (active)
        return status_fail(&call->st, STATUS_FAILED_PRECONDITION,
                           "organizations/%s still has active API keys; revoke them first", id);
    return true;
}

/* Every key of the organization, then the organization at the version
 * read (each delete audited, in that order), in one batch: all of it or
 * nothing, so nothing of it survives into a later organization with the same
 * id. A change to the organization since it was read is ABORTED; a key
 * created meanwhile is deleted with it, or fails its guard on the
 * organization (keyring.c). The guard in front claims the organization
 * before the keys are deleted: on MongoDB it is the batch's first write, so
 * keys being created under the organization conflict with the delete from
 * then on, instead of the delete conflicting with each of them until its
 * deadline. */
static bool delete_org_with_keys(api_call *call, const char *id, const char *name, int64_t version)
{
    resource_batch b;
    resource_batch_init(&b, &call->op);
    resource_batch_guard(&b, ORGANIZATIONS_COLLECTION, id, name, version);
    resource_batch_delete_all(&b, APIKEYS_COLLECTION, id, name, name);
    resource_batch_delete(&b, ORGANIZATIONS_COLLECTION, id, name, version);
    bool ok = resource_batch_apply(&b, &call->st);
    resource_batch_free(&b);
    return ok;
}

static ProtobufCMessage *delete_organization(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__DeleteOrganizationRequest *req = (void *)msg;
    char id[RESOURCE_ID_MAX + 1];
    int64_t version;
    if (!parse_name1("name", req->name, "organizations", id, sizeof id, &call->st) ||
        !auth_require(&call->who, id, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, req->name, &call->st))
        return NULL;
    if (!auth_is_platform_admin(&call->who))
        return api_fail(call, STATUS_PERMISSION_DENIED,
                        "only platform administrators delete organizations");
    ProtobufCMessage *current =
        resource_load(&call->op, &supplysec__v1__organization__descriptor, ORGANIZATIONS_COLLECTION,
                      id, req->name, req->name, &version, &call->st);
    if (!current)
        return NULL;
    bool ok = resource_check_etag(current, req->etag, &call->st) &&
              check_no_active_keys(call, id, req->name) &&
              delete_org_with_keys(call, id, req->name, version);
    protobuf_c_message_free_unpacked(current, NULL);
    if (!ok)
        return NULL;
    Google__Protobuf__Empty *empty = malloc(sizeof *empty);
    if (!empty)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    google__protobuf__empty__init(empty);
    return &empty->base;
}

static const api_method organizations_methods[] = {
    {.name = "CreateOrganization", .handler = create_organization, .writes = true},
    {.name = "GetOrganization", .handler = get_organization},
    {.name = "ListOrganizations", .handler = list_organizations},
    {.name = "UpdateOrganization", .handler = update_organization, .writes = true},
    {.name = "DeleteOrganization", .handler = delete_organization, .writes = true},
};

const api_service api_organizations_service = {
    &supplysec__v1__organizations__descriptor, organizations_methods,
    sizeof organizations_methods / sizeof organizations_methods[0]};
