/* attestations.c — the supplysec.v1.Attestations service: the Attestation kind's
 * standard methods (internal/domain/attestation.c declares the kind and its rules). */
#include "attestation.h"
#include "runtime.h"

static const api_method attestations_methods[] = {
    API_STANDARD(CREATE, "CreateAttestation", &attestation_kind),
    API_STANDARD(GET, "GetAttestation", &attestation_kind),
    API_STANDARD(LIST, "ListAttestations", &attestation_kind),
    API_STANDARD(UPDATE, "UpdateAttestation", &attestation_kind),
    API_STANDARD(DELETE, "DeleteAttestation", &attestation_kind),
};

const api_service api_attestations_service = {
    &supplysec__v1__attestations__descriptor, attestations_methods,
    sizeof attestations_methods / sizeof attestations_methods[0]};
