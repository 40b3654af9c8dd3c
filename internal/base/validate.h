/* validate.h — input rules shared by every service: resource ids and names,
 * country codes, text fields and page sizes. Each check names
 * the field it was given in its message, and returns false with st set. */
#ifndef SUPPLYSEC_VALIDATE_H
#define SUPPLYSEC_VALIDATE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "status.h"

#define RESOURCE_ID_MAX 63
#define PAGE_SIZE_DEFAULT 50
#define PAGE_SIZE_MAX 1000

/* `[a-z][a-z0-9-]{2,62}`, not ending in '-'. */
bool validate_resource_id(const char *field, const char *id, status *st);

/* A fresh id matching validate_resource_id: a letter and 15 base32 chars. */
void resource_id_generate(char out[RESOURCE_ID_MAX + 1]);

/* AIP-133: the client's id (`field`, validated) when it chose one, else a
 * generated one, into out. */
bool resource_id_take(const char *field, const char *requested, char out[RESOURCE_ID_MAX + 1],
                      status *st);

/* Splits `prefix/{id}` (prefix like "organizations") into id. */
bool parse_name1(const char *field, const char *name, const char *collection, char *id,
                 size_t idlen, status *st);
/* Splits `c1/{id1}/c2/{id2}`. */
bool parse_name2(const char *field, const char *name, const char *c1, char *id1, size_t id1len,
                 const char *c2, char *id2, size_t id2len, status *st);

/* ISO 3166-1 alpha-2, upper case, officially assigned. */
bool validate_country_code(const char *field, const char *code, status *st);

/* Valid UTF-8 of at most max_chars code points; required: not empty. */
bool validate_text(const char *field, const char *text, size_t max_chars, bool required,
                   status *st);

/* A Timestamp (seconds, nanos) within 0001-01-01 .. 9999-12-31 with nanos
 * in [0, 1e9): what google.protobuf.Timestamp allows and BSON stores. */
bool validate_timestamp(const char *field, int64_t seconds, int32_t nanos, status *st);

/* A Timestamp field: NULL passes unless required; else validate_timestamp,
 * and when past, not later than now (a client's clock may run up to
 * VALIDATE_FUTURE_SKEW_S ahead of ours). */
#define VALIDATE_FUTURE_SKEW_S 300
bool validate_time(const char *field, const Google__Protobuf__Timestamp *t, bool required,
                   bool past, status *st);

/* A value desc names, other than 0 (the UNSPECIFIED every enum of the API
 * starts with); when 0 is allowed (not required), 0 passes too. */
bool validate_enum(const char *field, const ProtobufCEnumDescriptor *desc, int value, bool required,
                   status *st);

/* page_size < 0 is INVALID_ARGUMENT; 0 → default; above max → max. */
bool validate_page_size(const char *field, int page_size, int *out, status *st);

#endif
