/* readiness_frameworks.c — the frameworks readiness reports judge, as
 * data: each requirement with its clauses and the rules (readiness.h) that
 * judge it; what a framework asks that the system does not judge, listed
 * apart. A new framework is a table here and its line in
 * readiness_frameworks[]. docs/readiness.md explains each mapping. */
#include "readiness.h"

#include "supplysec/v1/common.pb-c.h"

#define CRIT(x) SUPPLYSEC__V1__AEO_CRITERION__AEO_CRITERION_##x
#define ITEMS(x)                                                                                   \
    {                                                                                              \
        RULE_ITEMS, CRIT(x)                                                                        \
    }
#define R(x)                                                                                       \
    {                                                                                              \
        RULE_##x, 0                                                                                \
    }
#define CLAUSES_MEASURES "ISO 28000 4.4.6", "ISO 28001 5.4"

/* clang-format off */

/* ---- WCO SAFE Framework AEO criteria A-I (ISO 28004-4, tables 1 to 9) ---- */

static const readiness_requirement wco[] = {
    {"A", "Education, training and awareness", "",
     {"ISO 28000 4.4.2", "ISO 28001 5.3.1"},
     {R(TEAM), R(TRAINING)}},
    {"B", "Information exchange, access and confidentiality", "",
     {"ISO 28000 4.2", "ISO 28000 4.4.5", "ISO 28000 4.5.4", "ISO 28001 5.8"},
     {R(POLICY), R(STATEMENT)}},
    {"C", "Cargo security", "", {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"D", "Conveyance security", "", {CLAUSES_MEASURES}, {ITEMS(D_CONVEYANCE)}},
    {"E", "Premises security", "", {CLAUSES_MEASURES}, {ITEMS(E_PREMISES)}},
    {"F", "Personnel security", "", {CLAUSES_MEASURES}, {ITEMS(F_PERSONNEL)}},
    {"G", "Trading partner security", "",
     {"ISO 28000 4.4.6", "ISO 28001 4.1", "ISO 28001 4.2", "ISO 28001 4.3", "ISO 28001 4.4",
      "ISO 28001 4.5"},
     {R(STATEMENT), R(PARTNERS)}},
    {"H", "Crisis management and incident recovery", "",
     {"ISO 28000 4.5.3", "ISO 28000 4.4.6", "ISO 28000 4.4.7", "ISO 28001 5.7"},
     {R(PLAN), R(INCIDENTS), R(DRILL)}},
    {"I", "Measurement, analyses and improvement", "",
     {"ISO 28000 4.1", "ISO 28000 4.3", "ISO 28001 5.1", "ISO 28001 5.2", "ISO 28001 5.3.2",
      "ISO 28001 5.4", "ISO 28001 5.5", "ISO 28001 5.6"},
     {R(ASSESSMENT), R(REVIEW), R(OBJECTIVES), R(MONITORING)}},
};

static const readiness_outside wco_outside[] = {
    {"customs-compliance", "Demonstrated compliance with customs requirements",
     "a government function: customs judges the operator's record"},
    {"commercial-records", "A satisfactory system for managing commercial records",
     "a government function: audited by customs, outside this system"},
    {"financial-viability", "Financial viability",
     "a government function: judged by customs from the operator's accounts"},
    {"consultation", "Consultation, co-operation and communication with customs",
     "a government function: between the operator and its customs administration"},
};

/* ---- EU AEO self-assessment questionnaire, section 6 security and safety ----
 * Its sub-sections by name: their numbers are not printed (not verified
 * against the published questionnaire). */

static const readiness_requirement eu[] = {
    {"security-assessment", "Security assessment and security officer", "",
     {"ISO 28000 4.2", "ISO 28001 5.2", "ISO 28001 5.3"},
     {R(POLICY), R(ASSESSMENT), R(TEAM)}},
    {"building-security", "Building security", "", {CLAUSES_MEASURES}, {ITEMS(E_PREMISES)}},
    {"access-to-premises", "Access to premises", "", {CLAUSES_MEASURES}, {ITEMS(E_PREMISES)}},
    {"cargo-units", "Cargo units", "", {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"logistical-processes", "Logistical processes", "", {CLAUSES_MEASURES},
     {ITEMS(C_CARGO), ITEMS(D_CONVEYANCE)}},
    {"incoming-goods", "Incoming goods", "", {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"storage", "Storage of goods", "", {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"production", "Production of goods", "", {CLAUSES_MEASURES},
     {R(MANUFACTURER), ITEMS(C_CARGO)}},
    {"loading", "Loading of goods", "", {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"business-partners", "Security requirements for business partners", "",
     {"ISO 28001 4.2", "ISO 28001 4.3", "ISO 28001 4.4", "ISO 28001 4.5"},
     {R(STATEMENT), R(PARTNERS)}},
    {"personnel-security", "Personnel security", "",
     {"ISO 28000 4.4.2", "ISO 28000 4.4.6", "ISO 28001 5.5"},
     {ITEMS(F_PERSONNEL), R(TRAINING)}},
    {"external-services", "External services", "", {"ISO 28000 4.4.6", "ISO 28001 4.2"},
     {R(PARTNERS)}},
};

static const readiness_outside eu_outside[] = {
    {"1", "Company information", "facts about the applicant, not judged here"},
    {"2", "Compliance record", "a government function: customs judges the record"},
    {"3", "Accounting and logistical system", "audited by customs, outside this system"},
    {"4", "Financial solvency", "judged by customs from the applicant's accounts"},
    {"5", "Practical standards of competence or professional qualifications",
     "a criterion of the customs-simplifications status, not of security and safety"},
};

/* ---- C-TPAT minimum security criteria: 12 categories in 3 focus areas ---- */

#define CORPORATE "Corporate security"
#define TRANSPORT "Transportation security"
#define PEOPLE "People and physical security"

static const readiness_requirement ctpat[] = {
    {"security-vision", "Security vision and responsibility", CORPORATE,
     {"ISO 28000 4.2", "ISO 28000 4.6"}, {R(POLICY), R(REVIEW)}},
    {"risk-assessment", "Risk assessment", CORPORATE,
     {"ISO 28001 4.1", "ISO 28001 5.2", "ISO 28001 5.3"}, {R(STATEMENT), R(ASSESSMENT_RECENT)}},
    {"business-partners", "Business partners", CORPORATE,
     {"ISO 28001 4.2", "ISO 28001 4.3", "ISO 28001 4.4", "ISO 28001 4.5"}, {R(PARTNERS)}},
    {"cybersecurity", "Cybersecurity", CORPORATE, {"ISO 28001 5.8"},
     {ITEMS(B_INFORMATION)}},
    {"conveyances", "Conveyance and instruments of international traffic security", TRANSPORT,
     {CLAUSES_MEASURES}, {ITEMS(D_CONVEYANCE)}},
    {"seal-security", "Seal security", TRANSPORT, {CLAUSES_MEASURES}, {ITEMS(C_CARGO)}},
    {"procedural-security", "Procedural security", TRANSPORT,
     {"ISO 28000 4.4.6", "ISO 28000 4.5.3", "ISO 28001 5.7"}, {ITEMS(C_CARGO), R(INCIDENTS)}},
    {"agricultural-security", "Agricultural security", TRANSPORT, {"ISO 28001 5.3.2"},
     {R(AGRICULTURAL)}},
    {"physical-security", "Physical security", PEOPLE, {CLAUSES_MEASURES}, {ITEMS(E_PREMISES)}},
    {"physical-access-controls", "Physical access controls", PEOPLE, {CLAUSES_MEASURES},
     {ITEMS(E_PREMISES)}},
    {"personnel-security", "Personnel security", PEOPLE, {CLAUSES_MEASURES},
     {ITEMS(F_PERSONNEL)}},
    {"education-training", "Education, training and awareness", PEOPLE,
     {"ISO 28000 4.4.2", "ISO 28001 5.5"}, {R(TRAINING), R(DRILL)}},
};

/* clang-format on */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const readiness_framework wco_safe_aeo = {
    "wco-safe-aeo",
    "WCO SAFE Framework AEO criteria A to I",
    "WCO SAFE Framework of Standards; the criteria mapped to ISO 28000:2007 and ISO 28001:2007 "
    "clauses by ISO 28004-4, tables 1 to 9",
    wco,
    N(wco),
    wco_outside,
    N(wco_outside)};

static const readiness_framework eu_aeo_security = {
    "eu-aeo-security",
    "EU AEO self-assessment questionnaire: security and safety",
    "EU AEO guidelines, self-assessment questionnaire section 6, by sub-section",
    eu,
    N(eu),
    eu_outside,
    N(eu_outside)};

static const readiness_framework ctpat_msc = {
    "ctpat-msc",
    "C-TPAT minimum security criteria",
    "US CBP Customs-Trade Partnership Against Terrorism: 12 categories in 3 focus areas",
    ctpat,
    N(ctpat),
    NULL,
    0};

const readiness_framework *const readiness_frameworks[] = {&wco_safe_aeo, &eu_aeo_security,
                                                           &ctpat_msc};
const size_t readiness_frameworks_n = N(readiness_frameworks);
