/* scoring_scheme.h — the ScoringScheme kind (ISO 28001 5.3.2):
 * organizations/{organization}/scoringSchemes/{scoring_scheme}, the scales
 * a security assessment scores its threat scenarios on, and the score they
 * make. */
#ifndef SUPPLYSEC_SCORING_SCHEME_H
#define SUPPLYSEC_SCORING_SCHEME_H

#include <stdbool.h>

#include "kind.h"
#include "supplysec/v1/scoring_schemes.pb-c.h"

typedef Supplysec__V1__ScoringScheme ScoringScheme;

extern const kind scoring_scheme_kind;

/* *score: consequence level c and likelihood level l (1 for each scale's
 * lowest) combined as s says. False when either level is off its scale. */
bool scoring_score(const ScoringScheme *s, int c, int l, double *score);

#endif
