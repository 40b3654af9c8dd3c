/* scoring_schemes.c — the supplysec.v1.ScoringSchemes service: the
 * standard methods of the ScoringScheme kind
 * (internal/domain/scoring_scheme.c declares it and its rules). */
#include "runtime.h"
#include "scoring_scheme.h"

static const api_method scoring_schemes_methods[] = {
    API_STANDARD(CREATE, "CreateScoringScheme", &scoring_scheme_kind),
    API_STANDARD(GET, "GetScoringScheme", &scoring_scheme_kind),
    API_STANDARD(LIST, "ListScoringSchemes", &scoring_scheme_kind),
    API_STANDARD(UPDATE, "UpdateScoringScheme", &scoring_scheme_kind),
    API_STANDARD(DELETE, "DeleteScoringScheme", &scoring_scheme_kind),
};

const api_service api_scoring_schemes_service = {
    &supplysec__v1__scoring_schemes__descriptor, scoring_schemes_methods,
    sizeof scoring_schemes_methods / sizeof scoring_schemes_methods[0]};
