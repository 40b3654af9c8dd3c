/* scoring_scheme.c — the rules of a scoring scheme (ISO 28001 5.3.2): the
 * three presets the server fills in, what a scheme holds (two scales of 2
 * to 10 levels whose values rise, how they combine, the acceptable level,
 * the currency and cost ranges of an expected-annual-loss scheme), and the
 * score a consequence level and a likelihood level make. */
#include "scoring_scheme.h"

#include "access.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "organization.h"
#include "validate.h"

#define COMBINATION(x) SUPPLYSEC__V1__SCORE_COMBINATION__SCORE_COMBINATION_##x
#define PRESET(x) SUPPLYSEC__V1__SCORING_PRESET__SCORING_PRESET_##x

#define LEVELS_MIN 2
#define LEVELS_MAX 10
/* Values, costs and levels at most this: far past any cost, and exact in a
 * double's 53 bits, so a score prints as it was entered. */
#define NUMBER_MAX 1e15

typedef Supplysec__V1__Scale Scale;
typedef Supplysec__V1__ScaleLevel Level;

/* The presets (docs/domain.md, Scoring), as the proto3 JSON of a scheme. */
/* clang-format off */
static const char *const preset_json[] = {
    [PRESET(FIVE_BY_FIVE)] =
        "{\"consequence\":{\"name\":\"Consequence\",\"levels\":["
        "{\"label\":\"Negligible\",\"value\":1,\"description\":\"No loss or harm; operations undisturbed\"},"
        "{\"label\":\"Minor\",\"value\":2,\"description\":\"Small loss, no harm to people; a delay of hours\"},"
        "{\"label\":\"Moderate\",\"value\":3,\"description\":\"A shipment lost or held; a delay of days\"},"
        "{\"label\":\"Major\",\"value\":4,\"description\":\"Harm to people, or a site or route stopped; customs status at risk\"},"
        "{\"label\":\"Severe\",\"value\":5,\"description\":\"Loss of life, or the chain stopped; authorisations withdrawn\"}]},"
        "\"likelihood\":{\"name\":\"Likelihood\",\"levels\":["
        "{\"label\":\"Rare\",\"value\":1,\"description\":\"Not expected in ten years\"},"
        "{\"label\":\"Unlikely\",\"value\":2,\"description\":\"Could happen once in ten years\"},"
        "{\"label\":\"Possible\",\"value\":3,\"description\":\"Could happen once in a few years\"},"
        "{\"label\":\"Likely\",\"value\":4,\"description\":\"Expected about once a year\"},"
        "{\"label\":\"Almost certain\",\"value\":5,\"description\":\"Expected several times a year\"}]},"
        "\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"acceptableLevel\":6}",
    [PRESET(CTPAT_THREAT_VULNERABILITY)] =
        "{\"consequence\":{\"name\":\"Threat\",\"levels\":["
        "{\"label\":\"Low\",\"value\":1,\"description\":\"No recent incidents or intelligence for this threat on this route\"},"
        "{\"label\":\"Medium\",\"value\":2,\"description\":\"Some incidents or intelligence for this threat in the country or region\"},"
        "{\"label\":\"High\",\"value\":3,\"description\":\"Recent incidents or credible intelligence for this threat on this route\"}]},"
        "\"likelihood\":{\"name\":\"Vulnerability\",\"levels\":["
        "{\"label\":\"Low\",\"value\":1,\"description\":\"The minimum security criteria are met\"},"
        "{\"label\":\"Medium\",\"value\":2,\"description\":\"Some minimum security criteria are not met\"},"
        "{\"label\":\"High\",\"value\":3,\"description\":\"Most minimum security criteria are not met\"}]},"
        "\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"acceptableLevel\":2}",
    [PRESET(SEMI_QUANTITATIVE)] =
        "{\"consequence\":{\"name\":\"Cost of one event\",\"levels\":["
        "{\"label\":\"Minor\",\"minCost\":0,\"maxCost\":1000},"
        "{\"label\":\"Moderate\",\"minCost\":1000,\"maxCost\":10000},"
        "{\"label\":\"Serious\",\"minCost\":10000,\"maxCost\":100000},"
        "{\"label\":\"Major\",\"minCost\":100000,\"maxCost\":1000000},"
        "{\"label\":\"Catastrophic\",\"minCost\":1000000,\"maxCost\":10000000}]},"
        "\"likelihood\":{\"name\":\"Expected events a year\",\"levels\":["
        "{\"label\":\"Once a century\",\"value\":0.01},"
        "{\"label\":\"Once a decade\",\"value\":0.1},"
        "{\"label\":\"Once a year\",\"value\":1},"
        "{\"label\":\"Monthly\",\"value\":12},"
        "{\"label\":\"Weekly\",\"value\":52}]},"
        "\"combination\":\"SCORE_COMBINATION_EXPECTED_ANNUAL_LOSS\",\"acceptableLevel\":10000,"
        "\"currency\":\"EUR\"}",
};
/* clang-format on */

static bool number_valid(const char *field, double v, status *st)
{
    if (!isfinite(v) || v < 0 || v > NUMBER_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must be a number from 0 to %.0e",
                           field, NUMBER_MAX);
    return true;
}

/* What a scale may hold, as sent: its name and levels' labels, values and
 * costs within their limits. That values rise is checked once they are all
 * known (derive). */
static bool scale_valid(const Scale *sc, const char *p, status *st)
{
    char f[160];
    if (!sc)
        return true;
    snprintf(f, sizeof f, "%s.name", p);
    if (!validate_text(f, sc->name, 100, true, st))
        return false;
    if (sc->n_levels < LEVELS_MIN || sc->n_levels > LEVELS_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.levels: %d to %d levels, got %zu", p,
                           LEVELS_MIN, LEVELS_MAX, sc->n_levels);
    for (size_t i = 0; i < sc->n_levels; i++) {
        const Level *lv = sc->levels[i];
        snprintf(f, sizeof f, "%s.levels[%zu].label", p, i);
        if (!validate_text(f, lv->label, 100, true, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sc->levels[j]->label, lv->label) == 0)
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: \"%s\" is levels[%zu] too", f,
                                   lv->label, j);
        snprintf(f, sizeof f, "%s.levels[%zu].description", p, i);
        if (!validate_text(f, lv->description, 1000, false, st))
            return false;
        snprintf(f, sizeof f, "%s.levels[%zu].value", p, i);
        if (!number_valid(f, lv->value, st))
            return false;
        snprintf(f, sizeof f, "%s.levels[%zu].min_cost", p, i);
        if (!number_valid(f, lv->min_cost, st))
            return false;
        snprintf(f, sizeof f, "%s.levels[%zu].max_cost", p, i);
        if (!number_valid(f, lv->max_cost, st))
            return false;
        if (lv->max_cost < lv->min_cost)
            return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: below min_cost", f);
    }
    return true;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const ScoringScheme *s = (const ScoringScheme *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, s->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.preset", p);
    if (!validate_enum(f, &supplysec__v1__scoring_preset__descriptor, s->preset, false, st))
        return false;
    snprintf(f, sizeof f, "%s.consequence", p);
    if (!scale_valid(s->consequence, f, st))
        return false;
    snprintf(f, sizeof f, "%s.likelihood", p);
    if (!scale_valid(s->likelihood, f, st))
        return false;
    snprintf(f, sizeof f, "%s.combination", p);
    if (!validate_enum(f, &supplysec__v1__score_combination__descriptor, s->combination, false, st))
        return false;
    snprintf(f, sizeof f, "%s.acceptable_level", p);
    if (!number_valid(f, s->acceptable_level, st))
        return false;
    snprintf(f, sizeof f, "%s.currency", p);
    const char *c = s->currency;
    if (c[0] && !(strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
                  c[2] >= 'A' && c[2] <= 'Z'))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: an ISO 4217 code, three capital letters such as \"EUR\"", f);
    return true;
}

/* Moves the preset's parts into s where s leaves them unset. */
static bool preset_fill(ScoringScheme *s, status *st)
{
    const char *json = preset_json[s->preset];
    char err[160];
    ScoringScheme *p = (ScoringScheme *)doc_message_from_json(
        &supplysec__v1__scoring_scheme__descriptor, json, strlen(json), err, sizeof err);
    if (!p)
        return status_fail(st, STATUS_INTERNAL, "preset %d does not parse: %s", s->preset, err);
    bool ok = true;
#define TAKE(field)                                                                                \
    do {                                                                                           \
        if (!s->field) {                                                                           \
            s->field = p->field;                                                                   \
            p->field = NULL;                                                                       \
        }                                                                                          \
    } while (0)
    TAKE(consequence);
    TAKE(likelihood);
#undef TAKE
    if (!s->combination)
        s->combination = p->combination;
    if (s->acceptable_level == 0)
        s->acceptable_level = p->acceptable_level;
    if (!s->currency[0] && p->currency[0])
        ok = message_set_string(&s->base, "currency", p->currency);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    return ok || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* Numbers the levels, sets the midpoints of cost ranges as the values of
 * an expected-annual-loss consequence scale, and checks the values rise. */
static bool scale_finish(Scale *sc, bool costs, const char *field, status *st)
{
    for (size_t i = 0; i < sc->n_levels; i++) {
        Level *lv = sc->levels[i];
        lv->level = (int32_t)i + 1;
        if (costs)
            lv->value = (lv->min_cost + lv->max_cost) / 2;
        else if (lv->min_cost != 0 || lv->max_cost != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.levels[%zu]: cost ranges belong only to the consequence scale "
                               "of an expected-annual-loss scheme",
                               field, i);
        if (i > 0 && !(lv->value > sc->levels[i - 1]->value))
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.levels[%zu]: its %s must be above levels[%zu]'s", field, i,
                               costs ? "cost range" : "value", i - 1);
    }
    return true;
}

static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    ScoringScheme *s = (ScoringScheme *)res;
    const char *p = key->kind->field;
    if (!prev && s->preset && !preset_fill(s, st))
        return false;
    const char *missing = !s->consequence   ? "consequence"
                          : !s->likelihood  ? "likelihood"
                          : !s->combination ? "combination"
                                            : NULL;
    if (missing)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.%s: required (or name a preset)", p,
                           missing);
    bool eal = s->combination == COMBINATION(EXPECTED_ANNUAL_LOSS);
    char f[96];
    snprintf(f, sizeof f, "%s.consequence", p);
    if (!scale_finish(s->consequence, eal, f, st))
        return false;
    snprintf(f, sizeof f, "%s.likelihood", p);
    if (!scale_finish(s->likelihood, false, f, st))
        return false;
    if (eal != (s->currency[0] != 0))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           eal ? "%s.currency: required by an expected-annual-loss scheme"
                               : "%s.currency: only an expected-annual-loss scheme has one",
                           p);
    return true;
}

bool scoring_score(const ScoringScheme *s, int c, int l, double *score)
{
    if (!s->consequence || !s->likelihood || c < 1 || l < 1 ||
        (size_t)c > s->consequence->n_levels || (size_t)l > s->likelihood->n_levels)
        return false;
    double cv = s->consequence->levels[c - 1]->value, lv = s->likelihood->levels[l - 1]->value;
    *score = s->combination == COMBINATION(SUM) ? cv + lv : cv * lv;
    return true;
}

/* What ListScoringSchemes filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "title", .type = FACET_STRING},
    {.name = "preset", .type = FACET_ENUM, .enum_type = &supplysec__v1__scoring_preset__descriptor},
    {.name = "combination",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__score_combination__descriptor},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const immutable[] = {"preset", NULL};

const kind scoring_scheme_kind = {
    .type = "ScoringScheme",
    .field = "scoring_scheme",
    .plural = "scoringSchemes",
    .collection = "scoringSchemes",
    .parent = &organization_kind,
    .desc = &supplysec__v1__scoring_scheme__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators, .validate = validate, .derive = derive},
};
