/* attestation.h — the Attestation kind:
 * organizations/{organization}/attestations/{attestation}, a customs
 * authority's record that an operator holds a certificate it granted; and
 * the attested certificates of an operator, as its Organization shows them
 * and its partners take them. */
#ifndef SUPPLYSEC_ATTESTATION_H
#define SUPPLYSEC_ATTESTATION_H

#include "kind.h"
#include "supplysec/v1/attestations.pb-c.h"

extern const kind attestation_kind;

#define ATTESTED_MAX 20 /* attested certificates an Organization shows */

/* The attestations of the operator `org_name` (organizations/{id}) valid
 * at now_s, as AttestedCertificates: *out malloc'd (each freed with
 * protobuf_c_message_free_unpacked, then the array with free), *n of them,
 * at most ATTESTED_MAX, the latest valid_until first. */
bool attestation_certificates(const op_ctx *op, const char *org_name, int64_t now_s,
                              Supplysec__V1__AttestedCertificate ***out, size_t *n, status *st);

#endif
