/* statement_of_application.h — the StatementOfApplication kind (ISO 28001
 * 4.1, the scope of service), a controlled document:
 * organizations/{organization}/statementsOfApplication/{statement_of_application}. */
#ifndef SUPPLYSEC_STATEMENT_OF_APPLICATION_H
#define SUPPLYSEC_STATEMENT_OF_APPLICATION_H

#include "kind.h"
#include "supplysec/v1/statements_of_application.pb-c.h"

extern const kind statement_of_application_kind;

#define STATEMENT_FACILITIES_SEGMENT "/facilities/" /* {statement}/facilities/{facility_id} */

/* name, a facility's name
 * `organizations/{org}/statementsOfApplication/{id}/facilities/{facility_id}`:
 * its statement's name in statement and its id in *facility_id (pointing
 * into name); false, with st INVALID_ARGUMENT naming field, when name is
 * not that of a facility of one of org's statements. */
bool statement_facility_name(const char *field, const char *org, const char *name,
                             char statement[KIND_NAME_MAX], const char **facility_id, status *st);

/* True when the latest revision of statement (of org) has a facility with
 * id facility_id; else false with st NOT_FOUND (or why it cannot be read). */
bool statement_facility_exists(const op_ctx *op, const char *org, const char *statement,
                               const char *facility_id, status *st);

/* Whether code is a UN/LOCODE: two letters and three letters or digits
 * 2-9 (`[A-Z]{2}[A-Z2-9]{3}`). */
bool un_locode_valid(const char *code);

#endif
