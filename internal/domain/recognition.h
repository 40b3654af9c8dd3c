/* recognition.h — the Recognition kind:
 * organizations/{organization}/recognitions/{recognition}, a certificate
 * type (from one issuing country) a customs authority recognizes for
 * exempting a business partner, under its own programme or a mutual
 * recognition arrangement; and the set of an authority's recognitions an
 * exemption is judged by. */
#ifndef SUPPLYSEC_RECOGNITION_H
#define SUPPLYSEC_RECOGNITION_H

#include "kind.h"
#include "supplysec/v1/business_partners.pb-c.h"
#include "supplysec/v1/recognitions.pb-c.h"

extern const kind recognition_kind;

#define RECOGNITIONS_MAX 200 /* of one authority, judged at once */

typedef struct recognized {
    Supplysec__V1__PartnerCertificateType type;
    char country[3];
    char label[KIND_NAME_MAX + 256]; /* "recognized by organizations/x through EU-US MRA (2012)" */
} recognized;

/* The recognitions of one customs authority. */
typedef struct recognition_set {
    char authority[KIND_NAME_MAX];
    recognized *items;
    size_t n;
} recognition_set;

/* The recognitions of the authority `name` (organizations/{id}); field
 * names it in messages: INVALID_ARGUMENT when it is not a customs
 * authority on the platform. Free with recognition_set_free. */
bool recognition_set_load(const op_ctx *op, const char *field, const char *name,
                          recognition_set *out, status *st);
void recognition_set_free(recognition_set *s);

/* The recognition of s that covers c (its type, issued in its country),
 * or NULL. */
const recognized *recognition_set_covers(const recognition_set *s,
                                         const Supplysec__V1__PartnerCertificate *c);

#endif
