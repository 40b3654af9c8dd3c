/* statement_of_application.h — the StatementOfApplication kind (ISO 28001
 * 4.1, the scope of service), a controlled document:
 * organizations/{organization}/statementsOfApplication/{statement_of_application}. */
#ifndef SUPPLYSEC_STATEMENT_OF_APPLICATION_H
#define SUPPLYSEC_STATEMENT_OF_APPLICATION_H

#include "kind.h"
#include "supplysec/v1/statements_of_application.pb-c.h"

extern const kind statement_of_application_kind;

/* Whether code is a UN/LOCODE: two letters and three letters or digits
 * 2-9 (`[A-Z]{2}[A-Z2-9]{3}`). */
bool un_locode_valid(const char *code);

#endif
